import type { LoggerService } from '@nestjs/common';
import { redactText, redactValue } from './redact';

/** The levels LOG_LEVEL accepts, quietest first. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

type Sink = (line: string) => void;

const RANK: Record<LogLevelName, number> = Object.fromEntries(LOG_LEVELS.map((l, i) => [l, i])) as Record<LogLevelName, number>;

/**
 * Nest's start-up narration (a line per module, controller and mapped route, about a hundred) is
 * written at debug rather than info, so at the default level a new user's first screen is the
 * generated admin token and the `listening` line, not a scroll of route mappings.
 */
const STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

let sink: Sink = (line) => process.stdout.write(line + '\n');

/** Tests capture every line (to prove no secret is ever printed); production writes to stdout. */
export function setLogSink(next: Sink): void {
  sink = next;
}

/**
 * One JSON object per line. Every string that goes out passes through the redactor, so a secret that
 * slipped into a message or an error is still never printed.
 */
export class JsonLogger implements LoggerService {
  constructor(private readonly level: LogLevelName = 'info') {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    this.write(typeof context === 'string' && STARTUP_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  /** Structured entry: `fields` become top-level JSON properties. */
  event(level: Exclude<LogLevelName, 'silent'>, msg: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
    this.emit({ level, time: new Date().toISOString(), msg: redactText(msg), ...(redactValue(fields) as object) });
  }

  enabled(level: LogLevelName): boolean {
    return this.level !== 'silent' && RANK[level] <= RANK[this.level];
  }

  private write(level: Exclude<LogLevelName, 'silent'>, message: unknown, rest: unknown[]): void {
    if (!this.enabled(level)) return;
    // Nest passes the context as the last string argument, and a stack trace before it for errors.
    const args = [...rest];
    const context = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const entry: Record<string, unknown> = { level, time: new Date().toISOString() };
    if (context) entry.context = context;
    if (typeof message === 'string') entry.msg = message;
    else if (message instanceof Error) Object.assign(entry, { msg: message.message, err: message });
    else entry.data = message;
    if (args.length === 1 && typeof args[0] === 'string') entry.stack = args[0];
    else if (args.length > 0) entry.extra = args;
    this.emit(redactValue(entry) as Record<string, unknown>);
  }

  private emit(entry: Record<string, unknown>): void {
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ level: entry.level, time: entry.time, msg: 'unserialisable log entry' });
    }
    sink(line);
  }
}
