import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Injectable,
  Param,
  Patch,
  PipeTransform,
  Post,
  Query,
  Type,
  UseGuards,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope, InstanceKeyAuth, ManagementTokenAuth } from '../auth/auth.decorators';
import { CurrentActor, CurrentPrincipal, Principal } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors, ErrorResponseDto } from '../common/http/api-responses';
import type { ErrorCode } from '../common/errors/error-codes';
import { NoBody } from '../common/http/no-body';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { InstanceRefPipe } from '../common/http/instance-ref.pipe';
import { KeyManagementLimitGuard } from '../auth/key-management.limit.guard';
import { CurrentDeveloperId } from '../auth/current-developer.decorator';
import {
  CreateWebhookDto,
  DeletedWebhookDto,
  ListDeliveriesQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookEndpointDto,
  WebhookEndpointWithSecretDto,
  WebhookTestDto,
} from './webhook.dto';
import { WebhookEndpointsService, WebhookScope } from './webhook-endpoints.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path segment that cannot be an endpoint or delivery id names nothing: 404 without a query. */
@Injectable()
class WebhookIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) throw new AppException('NOT_FOUND', 'Webhook endpoint not found.');
    return value.toLowerCase();
  }
}

const IdParam = () => ApiParam({ name: 'id', format: 'uuid' });

/**
 * Self-service webhooks need an ACTIVE key (SPEC §5): a key in its rotation overlap still passes the
 * platform's checks but may not manage anything. The service checks the key again inside the
 * change's transaction.
 */
function ownInstance(p: Principal | undefined): WebhookScope {
  if (p?.kind !== 'instance_key') throw new AppException('AUTH_FAILED');
  if (p.keyStatus !== 'ACTIVE')
    throw new AppException('KEY_NOT_ACTIVE', 'Only an ACTIVE key can manage webhooks.', undefined, undefined, 403);
  return { instanceId: p.instanceId, actingKeyId: p.keyId };
}

/**
 * The value a door's owner parameter hands its handlers: the instanceRef, the developer id, or (self-
 * service) the principal. Declared as a string because Nest's OpenAPI explorer reads a path
 * parameter's schema (the admin door's instanceRef) from the handler's declared parameter type.
 */
type OwnerRef = string;

/** What differs between the three doors to the same endpoints; the handlers are one set. */
interface WebhookDoor {
  /** Class decorators, outermost first, as they would be stacked above the class. */
  door: ClassDecorator[];
  /** The parameter that names the owner, and the scope it resolves to (in the handler, after every pipe). */
  owner: () => ParameterDecorator;
  scopeOf: (owner: never) => WebhookScope;
  /** On every route of the door. */
  each: MethodDecorator[];
  /** On every route that changes something. */
  change: MethodDecorator[];
  summary: { list: string; create: string; update: string; delete: string };
  errors: { list: ErrorCode[]; create: ErrorCode[] };
}

/**
 * The endpoint routes of one door. The class is named by the door, which names its operation ids
 * (`selfServiceWebhooksList`, `adminWebhooksList`, …).
 */
function webhooksController(name: string, d: WebhookDoor): Type<unknown> {
  const each = () => applyDecorators(...d.each);
  const change = () => applyDecorators(...d.each, ...d.change);
  const Owner = d.owner;
  const scope = (owner: OwnerRef) => d.scopeOf(owner as never);

  // Stacked decorators apply bottom-up; applyDecorators applies in list order.
  @applyDecorators(...[...d.door].reverse())
  class WebhooksController {
    constructor(readonly webhooks: WebhookEndpointsService) {}

    @Get()
    @each()
    @ApiOperation({ summary: d.summary.list })
    @ApiEnvelope(WebhookEndpointDto, { list: true })
    @ApiErrors(...d.errors.list)
    list(@Owner() owner: OwnerRef, @Query() q: PaginationQueryDto): Promise<Page<WebhookEndpointDto>> {
      return this.webhooks.list(scope(owner), q.limit, q.offset);
    }

    @Post()
    @change()
    @Header('Cache-Control', 'no-store')
    @ApiOperation({ summary: d.summary.create })
    @ApiEnvelope(WebhookEndpointWithSecretDto, { status: 201 })
    @ApiErrors(...d.errors.create)
    create(@Owner() owner: OwnerRef, @Body() body: CreateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
      return this.webhooks.create(scope(owner), body, actor);
    }

    @Get(':id')
    @each()
    @IdParam()
    @ApiOperation({ summary: 'One endpoint' })
    @ApiEnvelope(WebhookEndpointDto)
    @ApiErrors('NOT_FOUND')
    get(@Owner() owner: OwnerRef, @Param('id', WebhookIdPipe) id: string): Promise<WebhookEndpointDto> {
      return this.webhooks.get(scope(owner), id);
    }

    @Patch(':id')
    @change()
    @IdParam()
    @ApiOperation({ summary: d.summary.update })
    @ApiEnvelope(WebhookEndpointDto)
    @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
    update(
      @Owner() owner: OwnerRef,
      @Param('id', WebhookIdPipe) id: string,
      @Body() body: UpdateWebhookDto,
      @CurrentActor() actor: Actor,
    ): Promise<WebhookEndpointDto> {
      return this.webhooks.update(scope(owner), id, body, actor);
    }

    @Delete(':id')
    @NoBody()
    @change()
    @IdParam()
    @ApiOperation({ summary: d.summary.delete })
    @ApiEnvelope(DeletedWebhookDto)
    @ApiErrors('NOT_FOUND')
    delete(@Owner() owner: OwnerRef, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<DeletedWebhookDto> {
      return this.webhooks.delete(scope(owner), id, actor);
    }

    @Post(':id/rotate-secret')
    @NoBody()
    @change()
    @HttpCode(200)
    @Header('Cache-Control', 'no-store')
    @IdParam()
    @ApiOperation({ summary: 'New signing secret (shown once); the old one keeps signing beside it for 24 h' })
    @ApiEnvelope(WebhookEndpointWithSecretDto)
    @ApiErrors('NOT_FOUND')
    rotateSecret(
      @Owner() owner: OwnerRef,
      @Param('id', WebhookIdPipe) id: string,
      @CurrentActor() actor: Actor,
    ): Promise<WebhookEndpointWithSecretDto> {
      return this.webhooks.rotateSecret(scope(owner), id, actor);
    }

    @Post(':id/test')
    @NoBody()
    @change()
    @HttpCode(202)
    @IdParam()
    @ApiOperation({ summary: 'Queue a webhook.test event for this endpoint' })
    @ApiEnvelope(WebhookTestDto, { status: 202 })
    @ApiErrors('NOT_FOUND', 'CONFLICT')
    test(@Owner() owner: OwnerRef, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookTestDto> {
      return this.webhooks.test(scope(owner), id, actor);
    }

    @Get(':id/deliveries')
    @each()
    @IdParam()
    @ApiOperation({ summary: 'Delivery log, newest first, with every attempt' })
    @ApiEnvelope(WebhookDeliveryDto, { list: true })
    @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
    deliveries(
      @Owner() owner: OwnerRef,
      @Param('id', WebhookIdPipe) id: string,
      @Query() q: ListDeliveriesQueryDto,
    ): Promise<Page<WebhookDeliveryDto>> {
      return this.webhooks.deliveries(scope(owner), id, q);
    }

    @Post(':id/deliveries/:deliveryId/retry')
    @NoBody()
    @change()
    @HttpCode(202)
    @IdParam()
    @ApiParam({ name: 'deliveryId', format: 'uuid' })
    @ApiOperation({ summary: 'Send a delivery again now (same webhook-id)' })
    @ApiEnvelope(WebhookDeliveryDto, { status: 202 })
    @ApiErrors('NOT_FOUND', 'CONFLICT')
    retry(
      @Owner() owner: OwnerRef,
      @Param('id', WebhookIdPipe) id: string,
      @Param('deliveryId', WebhookIdPipe) deliveryId: string,
      @CurrentActor() actor: Actor,
    ): Promise<WebhookDeliveryDto> {
      return this.webhooks.retry(scope(owner), id, deliveryId, actor);
    }
  }
  Object.defineProperty(WebhooksController, 'name', { value: name });
  return WebhooksController;
}

const ENDPOINT_ERRORS: WebhookDoor['errors'] = {
  list: ['VALIDATION_ERROR'],
  create: ['VALIDATION_ERROR', 'WEBHOOK_LIMIT_REACHED', 'UNSUPPORTED_MEDIA_TYPE'],
};

export const SelfServiceWebhooksController = webhooksController('SelfServiceWebhooksController', {
  door: [
    ApiTags('webhooks (self-service)'),
    InstanceKeyAuth(),
    ApiResponse({
      status: 403,
      type: ErrorResponseDto,
      description: '`KEY_NOT_ACTIVE`: the key is in its rotation overlap; only an ACTIVE key manages webhooks.',
    }),
    Controller('webhooks'),
  ],
  owner: CurrentPrincipal,
  scopeOf: (p: Principal | undefined) => ownInstance(p),
  each: [],
  change: [UseGuards(KeyManagementLimitGuard)],
  summary: {
    list: "List this instance's webhook endpoints, newest first",
    create: 'Subscribe an endpoint; its signing secret is in this response only',
    update: 'Change url, events, description, or enable/disable (disabling cancels pending deliveries)',
    delete: 'Delete an endpoint and its delivery log; nothing more is sent to it',
  },
  errors: ENDPOINT_ERRORS,
});

export const AdminWebhooksController = webhooksController('AdminWebhooksController', {
  door: [
    ApiTags('webhooks (admin)'),
    AdminAuth(),
    ApiParam({ name: 'instanceRef', example: 'aB3dE5fG' }),
    Controller('admin/instances/:instanceRef/webhooks'),
  ],
  owner: () => Param('instanceRef', InstanceRefPipe),
  scopeOf: (instanceRef: string) => ({ instanceRef }),
  each: [AdminScope('webhooks:write')],
  change: [],
  summary: {
    list: "List an instance's webhook endpoints, newest first",
    create: 'Subscribe an endpoint for the instance; its signing secret is in this response only',
    update: 'Change url, events, description, or enable/disable',
    delete: 'Delete an endpoint and its delivery log',
  },
  errors: {
    list: ['VALIDATION_ERROR', 'NOT_FOUND'],
    create: ['VALIDATION_ERROR', 'NOT_FOUND', 'WEBHOOK_LIMIT_REACHED', 'UNSUPPORTED_MEDIA_TYPE'],
  },
});

export const DeveloperWebhooksController = webhooksController('DeveloperWebhooksController', {
  door: [ApiTags('webhooks (MiCA developer)'), ManagementTokenAuth(), Controller('mica/developer/webhooks')],
  owner: CurrentDeveloperId,
  scopeOf: (developerId: string) => ({ developerId }),
  each: [],
  change: [],
  summary: {
    list: "List the account's webhook endpoints, newest first",
    create: 'Subscribe an endpoint; its signing secret is in this response only',
    update: 'Change url, events, description, or enable/disable',
    delete: 'Delete an endpoint and its delivery log',
  },
  errors: ENDPOINT_ERRORS,
});
