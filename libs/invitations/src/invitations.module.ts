import { Global, Module } from '@nestjs/common';
import { AuditModule } from '@saasready/audit';
import { AuthModule, REGISTRATION_INVITATIONS } from '@saasready/auth';
import { InvitationsController, OrgInvitationsController } from './invitations.controller';
import { InvitationsService } from './invitations.service';

/**
 * Invitations. Global only to hand libs/auth the REGISTRATION_INVITATIONS seam (auth sits below this lib
 * and cannot import it). Needs MailModule (global) for the emails.
 */
@Global()
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [OrgInvitationsController, InvitationsController],
  providers: [InvitationsService, { provide: REGISTRATION_INVITATIONS, useExisting: InvitationsService }],
  exports: [InvitationsService, REGISTRATION_INVITATIONS],
})
export class InvitationsModule {}
