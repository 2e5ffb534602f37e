import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { JsonLogger } from '../../common/logging/json-logger';
import { MetricsService } from '../../metrics/metrics.service';
import { RegisterFile, RegisterImportService, RegisterOutcome, SUCCESSFUL_OUTCOMES } from './register-import.service';
import { RegisterRepository } from './register.repository';
import { REGISTERS, RegisterName } from './registers';
import { RegisterSummaryService } from './register-summary.service';

export type SyncTrigger = 'cli' | 'admin' | 'schedule';
export type SyncSource = { folder: string } | { url: string };

export interface SyncReport {
  id: string;
  trigger: SyncTrigger;
  source: string;
  startedAt: string;
  finishedAt: string;
  /** True when every register now holds its source's latest version. */
  ok: boolean;
  registers: RegisterOutcome[];
}

const FETCH_TIMEOUT_MS = 30_000;
/** ESMA's files are a few hundred kB; anything this large is not one of them. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;

/**
 * Runs an import of all five registers from a folder or from ESMA's base URL (conditional GETs, so
 * an unchanged file costs a 304), and records the run. A register whose file cannot be fetched or
 * read keeps its data; the others still import.
 */
@Injectable()
export class RegisterSyncService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registerFiles: RegisterRepository,
    private readonly importer: RegisterImportService,
    private readonly logger: JsonLogger,
    private readonly summary: RegisterSummaryService,
    // Absent in the import CLI, which builds this service without the app's module graph.
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async run(source: SyncSource, trigger: SyncTrigger): Promise<SyncReport> {
    const startedAt = new Date();
    const registers: RegisterOutcome[] = [];
    for (const register of REGISTERS) {
      try {
        registers.push('folder' in source ? await this.fromFolder(source.folder, register) : await this.fromUrl(source.url, register));
      } catch (e) {
        // One register's failure (its transaction rolled back) must not keep the others from importing.
        this.logger.event('error', 'mica register import failed', { register, error: (e as Error).message });
        registers.push({ register, outcome: 'failed', message: `${register} could not be imported (internal error; see the logs).` });
      }
    }
    for (const r of registers) this.metrics?.registerImports.inc({ register: r.register, outcome: r.outcome, trigger });
    const ok = registers.every((r) => SUCCESSFUL_OUTCOMES.includes(r.outcome));
    const label = 'folder' in source ? path.resolve(source.folder) : source.url;
    const row = await this.registerFiles.recordSyncRun(trigger, label, startedAt, ok, { registers });
    this.summary.forget();
    const report: SyncReport = {
      id: row.id,
      trigger,
      source: label,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date(row.finished_at).toISOString(),
      ok,
      registers,
    };
    this.logger.event(ok ? 'info' : 'warn', 'mica register sync', { trigger, source: label, ok });
    return report;
  }

  /** The configured ESMA base URL, if any. */
  get configuredUrl(): string | undefined {
    return this.config.mica.syncUrl;
  }

  private async fromFolder(folder: string, register: RegisterName): Promise<RegisterOutcome> {
    const file = path.resolve(folder, `${register}.csv`);
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (e) {
      return {
        register,
        outcome: 'failed',
        message: `${register}.csv could not be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`,
      };
    }
    return this.importer.importFile({ register, content, fetchedAt: new Date(), source: file });
  }

  private async fromUrl(base: string, register: RegisterName): Promise<RegisterOutcome> {
    const url = `${base.replace(/\/+$/, '')}/${register}.csv`;
    const known = await this.registerFiles.knownFile(register);
    const headers: Record<string, string> = { 'User-Agent': 'trusset-key-service (MiCA register sync)' };
    if (known?.source === url) {
      if (known.etag) headers['If-None-Match'] = known.etag;
      if (known.last_modified) headers['If-Modified-Since'] = known.last_modified;
    }
    let file: RegisterFile;
    try {
      const res = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (res.status === 304) {
        await res.body?.cancel();
        await this.importer.markChecked(register);
        return { register, outcome: 'not_modified' };
      }
      if (!res.ok) {
        await res.body?.cancel();
        return { register, outcome: 'failed', message: `${url} answered HTTP ${res.status}.` };
      }
      if (Number(res.headers.get('content-length') ?? 0) > MAX_FILE_BYTES) {
        await res.body?.cancel();
        return { register, outcome: 'rejected', message: `${url} is larger than ${MAX_FILE_BYTES} bytes.` };
      }
      const content = Buffer.from(await res.arrayBuffer());
      if (content.length > MAX_FILE_BYTES)
        return { register, outcome: 'rejected', message: `${url} is larger than ${MAX_FILE_BYTES} bytes.` };
      file = {
        register,
        content,
        fetchedAt: new Date(),
        source: url,
        etag: res.headers.get('etag'),
        lastModified: res.headers.get('last-modified'),
      };
    } catch (e) {
      const reason =
        (e as Error).name === 'TimeoutError' ? 'timed out' : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
      return { register, outcome: 'failed', message: `${url} could not be fetched (${reason}).` };
    }
    return this.importer.importFile(file);
  }
}
