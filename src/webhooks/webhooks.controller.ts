import { Body, Controller, Delete, Get, Header, HttpCode, Injectable, Param, Patch, PipeTransform, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope, InstanceKeyAuth, ManagementTokenAuth } from '../auth/auth.decorators';
import { CurrentActor, CurrentPrincipal, Principal } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors, ErrorResponseDto } from '../common/http/api-responses';
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
  if (p.keyStatus !== 'ACTIVE') throw new AppException('KEY_NOT_ACTIVE', 'Only an ACTIVE key can manage webhooks.', undefined, undefined, 403);
  return { instanceId: p.instanceId, actingKeyId: p.keyId };
}

@ApiTags('webhooks (self-service)')
@InstanceKeyAuth()
@ApiResponse({ status: 403, type: ErrorResponseDto, description: '`KEY_NOT_ACTIVE`: the key is in its rotation overlap; only an ACTIVE key manages webhooks.' })
@Controller('webhooks')
export class SelfServiceWebhooksController {
  constructor(private readonly webhooks: WebhookEndpointsService) {}

  @Get()
  @ApiOperation({ summary: "List this instance's webhook endpoints, newest first" })
  @ApiEnvelope(WebhookEndpointDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@CurrentPrincipal() p: Principal, @Query() q: PaginationQueryDto): Promise<Page<WebhookEndpointDto>> {
    return this.webhooks.list(ownInstance(p), q.limit, q.offset);
  }

  @Post()
  @UseGuards(KeyManagementLimitGuard)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Subscribe an endpoint; its signing secret is in this response only' })
  @ApiEnvelope(WebhookEndpointWithSecretDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'WEBHOOK_LIMIT_REACHED', 'UNSUPPORTED_MEDIA_TYPE')
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.webhooks.create(ownInstance(p), body, actor);
  }

  @Get(':id')
  @IdParam()
  @ApiOperation({ summary: 'One endpoint' })
  @ApiEnvelope(WebhookEndpointDto)
  @ApiErrors('NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string): Promise<WebhookEndpointDto> {
    return this.webhooks.get(ownInstance(p), id);
  }

  @Patch(':id')
  @UseGuards(KeyManagementLimitGuard)
  @IdParam()
  @ApiOperation({ summary: 'Change url, events, description, or enable/disable (disabling cancels pending deliveries)' })
  @ApiEnvelope(WebhookEndpointDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  update(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string, @Body() body: UpdateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointDto> {
    return this.webhooks.update(ownInstance(p), id, body, actor);
  }

  @Delete(':id')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @IdParam()
  @ApiOperation({ summary: 'Delete an endpoint and its delivery log; nothing more is sent to it' })
  @ApiEnvelope(DeletedWebhookDto)
  @ApiErrors('NOT_FOUND')
  delete(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<DeletedWebhookDto> {
    return this.webhooks.delete(ownInstance(p), id, actor);
  }

  @Post(':id/rotate-secret')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @IdParam()
  @ApiOperation({ summary: 'New signing secret (shown once); the old one keeps signing beside it for 24 h' })
  @ApiEnvelope(WebhookEndpointWithSecretDto)
  @ApiErrors('NOT_FOUND')
  rotateSecret(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.webhooks.rotateSecret(ownInstance(p), id, actor);
  }

  @Post(':id/test')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @HttpCode(202)
  @IdParam()
  @ApiOperation({ summary: 'Queue a webhook.test event for this endpoint' })
  @ApiEnvelope(WebhookTestDto, { status: 202 })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  test(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookTestDto> {
    return this.webhooks.test(ownInstance(p), id, actor);
  }

  @Get(':id/deliveries')
  @IdParam()
  @ApiOperation({ summary: 'Delivery log, newest first, with every attempt' })
  @ApiEnvelope(WebhookDeliveryDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  deliveries(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string, @Query() q: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    return this.webhooks.deliveries(ownInstance(p), id, q);
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @HttpCode(202)
  @IdParam()
  @ApiParam({ name: 'deliveryId', format: 'uuid' })
  @ApiOperation({ summary: 'Send a delivery again now (same webhook-id)' })
  @ApiEnvelope(WebhookDeliveryDto, { status: 202 })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  retry(@CurrentPrincipal() p: Principal, @Param('id', WebhookIdPipe) id: string, @Param('deliveryId', WebhookIdPipe) deliveryId: string, @CurrentActor() actor: Actor): Promise<WebhookDeliveryDto> {
    return this.webhooks.retry(ownInstance(p), id, deliveryId, actor);
  }
}

@ApiTags('webhooks (admin)')
@AdminAuth()
@ApiParam({ name: 'instanceRef', example: 'aB3dE5fG' })
@Controller('admin/instances/:instanceRef/webhooks')
export class AdminWebhooksController {
  constructor(private readonly webhooks: WebhookEndpointsService) {}

  @Get()
  @AdminScope('webhooks:write')
  @ApiOperation({ summary: "List an instance's webhook endpoints, newest first" })
  @ApiEnvelope(WebhookEndpointDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  list(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Query() q: PaginationQueryDto): Promise<Page<WebhookEndpointDto>> {
    return this.webhooks.list({ instanceRef }, q.limit, q.offset);
  }

  @Post()
  @AdminScope('webhooks:write')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Subscribe an endpoint for the instance; its signing secret is in this response only' })
  @ApiEnvelope(WebhookEndpointWithSecretDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'WEBHOOK_LIMIT_REACHED', 'UNSUPPORTED_MEDIA_TYPE')
  create(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Body() body: CreateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.webhooks.create({ instanceRef }, body, actor);
  }

  @Get(':id')
  @AdminScope('webhooks:write')
  @IdParam()
  @ApiOperation({ summary: 'One endpoint' })
  @ApiEnvelope(WebhookEndpointDto)
  @ApiErrors('NOT_FOUND')
  get(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('id', WebhookIdPipe) id: string): Promise<WebhookEndpointDto> {
    return this.webhooks.get({ instanceRef }, id);
  }

  @Patch(':id')
  @AdminScope('webhooks:write')
  @IdParam()
  @ApiOperation({ summary: 'Change url, events, description, or enable/disable' })
  @ApiEnvelope(WebhookEndpointDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  update(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('id', WebhookIdPipe) id: string, @Body() body: UpdateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointDto> {
    return this.webhooks.update({ instanceRef }, id, body, actor);
  }

  @Delete(':id')
  @AdminScope('webhooks:write')
  @NoBody()
  @IdParam()
  @ApiOperation({ summary: 'Delete an endpoint and its delivery log' })
  @ApiEnvelope(DeletedWebhookDto)
  @ApiErrors('NOT_FOUND')
  delete(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<DeletedWebhookDto> {
    return this.webhooks.delete({ instanceRef }, id, actor);
  }

  @Post(':id/rotate-secret')
  @AdminScope('webhooks:write')
  @NoBody()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @IdParam()
  @ApiOperation({ summary: 'New signing secret (shown once); the old one keeps signing beside it for 24 h' })
  @ApiEnvelope(WebhookEndpointWithSecretDto)
  @ApiErrors('NOT_FOUND')
  rotateSecret(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.webhooks.rotateSecret({ instanceRef }, id, actor);
  }

  @Post(':id/test')
  @AdminScope('webhooks:write')
  @NoBody()
  @HttpCode(202)
  @IdParam()
  @ApiOperation({ summary: 'Queue a webhook.test event for this endpoint' })
  @ApiEnvelope(WebhookTestDto, { status: 202 })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  test(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookTestDto> {
    return this.webhooks.test({ instanceRef }, id, actor);
  }

  @Get(':id/deliveries')
  @AdminScope('webhooks:write')
  @IdParam()
  @ApiOperation({ summary: 'Delivery log, newest first, with every attempt' })
  @ApiEnvelope(WebhookDeliveryDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  deliveries(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('id', WebhookIdPipe) id: string, @Query() q: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    return this.webhooks.deliveries({ instanceRef }, id, q);
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @AdminScope('webhooks:write')
  @NoBody()
  @HttpCode(202)
  @IdParam()
  @ApiParam({ name: 'deliveryId', format: 'uuid' })
  @ApiOperation({ summary: 'Send a delivery again now (same webhook-id)' })
  @ApiEnvelope(WebhookDeliveryDto, { status: 202 })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  retry(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('id', WebhookIdPipe) id: string,
    @Param('deliveryId', WebhookIdPipe) deliveryId: string,
    @CurrentActor() actor: Actor,
  ): Promise<WebhookDeliveryDto> {
    return this.webhooks.retry({ instanceRef }, id, deliveryId, actor);
  }
}

@ApiTags('webhooks (MiCA developer)')
@ManagementTokenAuth()
@Controller('mica/developer/webhooks')
export class DeveloperWebhooksController {
  constructor(private readonly webhooks: WebhookEndpointsService) {}

  @Get()
  @ApiOperation({ summary: "List the account's webhook endpoints, newest first" })
  @ApiEnvelope(WebhookEndpointDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@CurrentDeveloperId() developerId: string, @Query() q: PaginationQueryDto): Promise<Page<WebhookEndpointDto>> {
    return this.webhooks.list({ developerId }, q.limit, q.offset);
  }

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Subscribe an endpoint; its signing secret is in this response only' })
  @ApiEnvelope(WebhookEndpointWithSecretDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'WEBHOOK_LIMIT_REACHED', 'UNSUPPORTED_MEDIA_TYPE')
  create(@CurrentDeveloperId() developerId: string, @Body() body: CreateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.webhooks.create({ developerId }, body, actor);
  }

  @Get(':id')
  @IdParam()
  @ApiOperation({ summary: 'One endpoint' })
  @ApiEnvelope(WebhookEndpointDto)
  @ApiErrors('NOT_FOUND')
  get(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string): Promise<WebhookEndpointDto> {
    return this.webhooks.get({ developerId }, id);
  }

  @Patch(':id')
  @IdParam()
  @ApiOperation({ summary: 'Change url, events, description, or enable/disable' })
  @ApiEnvelope(WebhookEndpointDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  update(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string, @Body() body: UpdateWebhookDto, @CurrentActor() actor: Actor): Promise<WebhookEndpointDto> {
    return this.webhooks.update({ developerId }, id, body, actor);
  }

  @Delete(':id')
  @NoBody()
  @IdParam()
  @ApiOperation({ summary: 'Delete an endpoint and its delivery log' })
  @ApiEnvelope(DeletedWebhookDto)
  @ApiErrors('NOT_FOUND')
  delete(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<DeletedWebhookDto> {
    return this.webhooks.delete({ developerId }, id, actor);
  }

  @Post(':id/rotate-secret')
  @NoBody()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @IdParam()
  @ApiOperation({ summary: 'New signing secret (shown once); the old one keeps signing beside it for 24 h' })
  @ApiEnvelope(WebhookEndpointWithSecretDto)
  @ApiErrors('NOT_FOUND')
  rotateSecret(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.webhooks.rotateSecret({ developerId }, id, actor);
  }

  @Post(':id/test')
  @NoBody()
  @HttpCode(202)
  @IdParam()
  @ApiOperation({ summary: 'Queue a webhook.test event for this endpoint' })
  @ApiEnvelope(WebhookTestDto, { status: 202 })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  test(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string, @CurrentActor() actor: Actor): Promise<WebhookTestDto> {
    return this.webhooks.test({ developerId }, id, actor);
  }

  @Get(':id/deliveries')
  @IdParam()
  @ApiOperation({ summary: 'Delivery log, newest first, with every attempt' })
  @ApiEnvelope(WebhookDeliveryDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  deliveries(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string, @Query() q: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    return this.webhooks.deliveries({ developerId }, id, q);
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @NoBody()
  @HttpCode(202)
  @IdParam()
  @ApiParam({ name: 'deliveryId', format: 'uuid' })
  @ApiOperation({ summary: 'Send a delivery again now (same webhook-id)' })
  @ApiEnvelope(WebhookDeliveryDto, { status: 202 })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  retry(@CurrentDeveloperId() developerId: string, @Param('id', WebhookIdPipe) id: string, @Param('deliveryId', WebhookIdPipe) deliveryId: string, @CurrentActor() actor: Actor): Promise<WebhookDeliveryDto> {
    return this.webhooks.retry({ developerId }, id, deliveryId, actor);
  }
}
