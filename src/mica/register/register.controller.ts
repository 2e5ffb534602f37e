import { Controller, Get, Header, Param, Query, UseInterceptors } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RESPONSE_HEADERS_EXTENSION } from '../../common/openapi/openapi-conventions';
import { MicaKeyAuth } from '../../auth/auth.decorators';
import { ApiEnvelope, ApiErrors } from '../../common/http/api-responses';
import { Page } from '../../common/http/page';
import { RegisterHeadersInterceptor } from './register-headers.interceptor';
import { RegisterQueryService } from './register-query.service';
import {
  ChangeDto,
  ChangesQueryDto,
  CountryDto,
  IssuerDto,
  IssuerFieldsDto,
  IssuerParamsDto,
  LicenseTypeDto,
  ListIssuersQueryDto,
  SearchQueryDto,
  StatisticsDto,
} from './register.dto';

const LIST_CACHE = 'private, max-age=300';
const STATS_CACHE = 'private, max-age=600';
const SEARCH_CACHE = 'private, max-age=120';

@ApiTags('MiCA register data')
@MicaKeyAuth()
@UseInterceptors(RegisterHeadersInterceptor)
@ApiExtension(RESPONSE_HEADERS_EXTENSION, ['X-Total-Count', 'X-Data-Source'])
@Controller('mica/v1')
export class RegisterController {
  constructor(private readonly register: RegisterQueryService) {}

  @Get('issuers')
  @Header('Cache-Control', LIST_CACHE)
  @ApiOperation({ summary: 'List register records (providers, token issuers, white papers, non-compliant entities) with filters' })
  @ApiEnvelope(IssuerFieldsDto, {
    list: true,
    description: 'Every field of each record, or only those `fields` names. Headers: X-Total-Count, X-Data-Source, Cache-Control (300 s).',
  })
  @ApiErrors('VALIDATION_ERROR')
  list(@Query() query: ListIssuersQueryDto): Promise<Page<Partial<IssuerDto>>> {
    return this.register.list(query);
  }

  @Get('issuers/:id')
  @Header('Cache-Control', LIST_CACHE)
  @ApiOperation({ summary: 'One register record by its stable id' })
  @ApiEnvelope(IssuerDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  get(@Param() params: IssuerParamsDto): Promise<IssuerDto> {
    return this.register.get(params.id);
  }

  @Get('search')
  @Header('Cache-Control', SEARCH_CACHE)
  @ApiOperation({ summary: 'Search names, LEIs, commercial names and authorities, best matches first' })
  @ApiEnvelope(IssuerDto, { list: true, description: 'Headers: X-Total-Count, X-Data-Source, Cache-Control (120 s).' })
  @ApiErrors('VALIDATION_ERROR')
  search(@Query() query: SearchQueryDto): Promise<Page<IssuerDto>> {
    return this.register.search(query);
  }

  @Get('statistics')
  @Header('Cache-Control', STATS_CACHE)
  @ApiOperation({ summary: 'Counts by licence type, status, entity type and service; file versions; last sync' })
  @ApiEnvelope(StatisticsDto)
  statistics(): Promise<StatisticsDto> {
    return this.register.statistics();
  }

  @Get('license-types')
  @Header('Cache-Control', STATS_CACHE)
  @ApiOperation({ summary: 'The five licence types, their ESMA file and record counts' })
  @ApiEnvelope(LicenseTypeDto, { list: true })
  licenseTypes(): Promise<Page<LicenseTypeDto>> {
    return this.register.licenseTypes();
  }

  @Get('countries')
  @Header('Cache-Control', STATS_CACHE)
  @ApiOperation({ summary: 'Home states with their number of records, most first' })
  @ApiEnvelope(CountryDto, { list: true })
  countries(): Promise<Page<CountryDto>> {
    return this.register.countries();
  }

  @Get('changes')
  @Header('Cache-Control', LIST_CACHE)
  @ApiOperation({ summary: 'Records added, changed or removed by imports since a time, newest first' })
  @ApiEnvelope(ChangeDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  changes(@Query() query: ChangesQueryDto): Promise<Page<ChangeDto>> {
    return this.register.changes(query);
  }
}
