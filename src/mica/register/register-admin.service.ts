import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { Actor } from '../../domain/actor';
import { AppException } from '../../common/errors/app.exception';
import { RegisterSyncService, SyncReport } from './register-sync.service';
import type { SyncRequestDto } from './register.dto';

/** The admin's "sync now": from a folder on the server, else the configured ESMA URL; audited either way. */
@Injectable()
export class RegisterAdminService {
  constructor(
    private readonly sync: RegisterSyncService,
    private readonly audit: AuditService,
  ) {}

  async syncNow(dto: SyncRequestDto, actor: Actor): Promise<SyncReport> {
    const url = this.sync.configuredUrl;
    if (!dto.folder && !url) {
      throw new AppException('VALIDATION_ERROR', 'No MICA_SYNC_URL is configured: send a folder to import from.', {
        folder: ['folder is required when MICA_SYNC_URL is not set'],
      });
    }
    const report = await this.sync.run(dto.folder ? { folder: dto.folder } : { url: url! }, 'admin');
    await this.audit.record(
      {
        action: 'mica.register.synced',
        target: { type: 'mica_sync', id: report.id },
        details: {
          source: report.source,
          ok: report.ok,
          registers: report.registers.map(({ register, outcome, rows, added, changed, removed }) => ({
            register,
            outcome,
            rows,
            added,
            changed,
            removed,
          })),
        },
      },
      actor,
    );
    return report;
  }
}
