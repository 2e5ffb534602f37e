import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { JsonLogger } from '../../common/logging/json-logger';
import { RegisterSyncService } from './register-sync.service';

/**
 * Syncs from MICA_SYNC_URL every MICA_SYNC_INTERVAL minutes; off unless both are set, so a machine
 * without network starts cleanly. Replicas may each run it: imports are serialised per register in
 * the database, and a file already imported is recognised by its digest.
 */
@Injectable()
export class RegisterSyncScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sync: RegisterSyncService,
    private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap(): void {
    const { syncUrl, syncIntervalMinutes } = this.config.mica;
    if (!syncUrl || syncIntervalMinutes <= 0) return;
    // A first sync right after start, then one per interval.
    setTimeout(() => void this.tick(syncUrl), 1_000).unref();
    this.timer = setInterval(() => void this.tick(syncUrl), syncIntervalMinutes * 60_000);
    this.timer.unref();
    this.logger.event('info', 'mica register sync scheduled', { url: syncUrl, intervalMinutes: syncIntervalMinutes });
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(url: string): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.sync.run({ url }, 'schedule');
    } catch (e) {
      this.logger.event('error', 'mica register sync failed', { error: (e as Error).message });
    } finally {
      this.running = false;
    }
  }
}
