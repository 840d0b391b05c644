import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { UsersService } from './users.service';

/** Creates ADMIN_EMAIL / ADMIN_PASSWORD at boot when no such user exists yet. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { ADMIN_EMAIL, ADMIN_PASSWORD } = this.config.env;
    if (!ADMIN_EMAIL || !ADMIN_PASSWORD) return;
    if ((await this.users.ensureAdmin(ADMIN_EMAIL, ADMIN_PASSWORD)) === 'created') {
      this.logger.log(`Created admin ${ADMIN_EMAIL}`);
    }
  }
}
