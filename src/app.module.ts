import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from './config/app.config';
import { JsonLogger } from './common/logging/json-logger';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { DatabaseModule } from './database/database.module';
import type { OpenDatabase } from './database/database';
import { AuditModule } from './audit/audit.module';
import { AdminEventsModule } from './admin-events/admin-events.module';
import { AuthModule } from './auth/auth.module';
import { VerifyModule } from './hot-path/verify.module';
import { HealthModule } from './health/health.module';
import { InstancesModule } from './instances/instances.module';
import { InstanceKeysModule } from './instance-keys/instance-keys.module';
import { MetricsModule } from './metrics/metrics.module';
import { UsageModule } from './usage/usage.module';
import { KeyCacheModule } from './key-cache/key-cache.module';
import { MicaAccountsModule } from './mica/accounts/mica-accounts.module';
import { MicaHealthModule } from './mica/health/mica-health.module';
import { MicaRegisterModule } from './mica/register/register.module';
import { OperatorTokensModule } from './operator-tokens/operator-tokens.module';
import { ContainmentModule } from './containment/containment.module';
import { SecretScanningModule } from './secret-scanning/secret-scanning.module';
import { MicaOperatorsModule } from './mica/operators/mica-operators.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { UsageHistoryModule } from './usage-history/usage-history.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Global()
@Module({})
class CoreModule {
  static register(config: AppConfig, logger: JsonLogger): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: JsonLogger, useValue: logger },
      ],
      exports: [APP_CONFIG, JsonLogger],
    };
  }
}

export interface AppDependencies {
  config: AppConfig;
  logger: JsonLogger;
  database: OpenDatabase;
}

@Module({})
export class AppModule {
  static register({ config, logger, database }: AppDependencies): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(config, logger),
        DatabaseModule.forRoot(database),
        MetricsModule,
        RateLimitModule,
        AuditModule,
        AdminEventsModule,
        AuthModule,
        VerifyModule,
        UsageModule,
        IdempotencyModule,
        KeyCacheModule,
        HealthModule,
        InstancesModule,
        InstanceKeysModule,
        MicaAccountsModule,
        MicaHealthModule,
        MicaRegisterModule,
        OperatorTokensModule,
        ContainmentModule,
        SecretScanningModule,
        MicaOperatorsModule,
        UsageHistoryModule,
        WebhooksModule,
      ],
    };
  }
}
