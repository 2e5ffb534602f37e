import { Module } from '@nestjs/common';
import { ContainmentModule } from '../containment/containment.module';
import { GithubKeyStore } from './github-keys';
import { SecretScanningController } from './secret-scanning.controller';
import { SecretScanningTokenGuard } from './secret-scanning-token.guard';

@Module({
  imports: [ContainmentModule],
  controllers: [SecretScanningController],
  providers: [GithubKeyStore, SecretScanningTokenGuard],
})
export class SecretScanningModule {}
