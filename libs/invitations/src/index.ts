export * from './invitation.entity';
export * from './dto/invitation.dto';
export * from './invitations.service';
export * from './invitations.controller';
export * from './invitations.module';

import { InvitationEntity } from './invitation.entity';
export const INVITATIONS_ENTITIES = [InvitationEntity];
