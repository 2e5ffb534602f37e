import { Module } from '@nestjs/common';
import { IssuerRepository } from './issuer.repository';
import { RegisterAdminController } from './register-admin.controller';
import { RegisterAdminService } from './register-admin.service';
import { RegisterImportService } from './register-import.service';
import { RegisterQueryService } from './register-query.service';
import { RegisterSummaryService } from './register-summary.service';
import { RegisterSyncScheduler } from './register-sync.scheduler';
import { RegisterSyncService } from './register-sync.service';
import { RegisterController } from './register.controller';
import { RegisterRepository } from './register.repository';

@Module({
  controllers: [RegisterController, RegisterAdminController],
  providers: [
    RegisterImportService,
    RegisterSyncService,
    RegisterSyncScheduler,
    RegisterQueryService,
    RegisterAdminService,
    RegisterSummaryService,
    IssuerRepository,
    RegisterRepository,
  ],
  exports: [RegisterQueryService, RegisterSummaryService],
})
export class MicaRegisterModule {}
