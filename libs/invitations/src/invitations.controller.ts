import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Actor, Authenticated, CurrentActor, CurrentOrg, OrgScope, Public, RateLimited } from '@saasready/core';
import { Permission, RequirePermission } from '@saasready/rbac';
import { decodeCursor, PAGE_LIMIT_DEFAULT, toPage, uuidParam } from '@saasready/tenancy';
import {
  AcceptInvitationResponseDto,
  CreateInvitationDto,
  InvitationListDto,
  InvitationPreviewDto,
  InvitationTokenDto,
  InvitationWithTokenDto,
  ListInvitationsQueryDto,
} from './dto/invitation.dto';
import { InvitationsService } from './invitations.service';

const INVITATIONS_CURSOR = 'invitations';

/** The invitations of one organization (user.invite). */
@ApiTags('invitations')
@Controller('orgs/:org_id/invitations')
export class OrgInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @RequirePermission(Permission.UserInvite)
  @Post()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiBadRequestResponse({ description: '`invalid_role`: `role_id` is not a role of this organization.' })
  @ApiForbiddenResponse({ description: '`permission_denied` when the role holds a permission the caller lacks.' })
  @ApiConflictResponse({ description: '`already_member`: a member has this email. `invitation_pending`: it has a pending invitation.' })
  @ApiOperation({
    operationId: 'createInvitation',
    summary: 'Invite someone by email, with a role',
    description:
      'Queues the invitation email (link `{APP_URL}/accept-invite?token=...`); the invitation expires after INVITATION_TTL. ' +
      'The role must be built-in or of this organization (400 invalid_role) and hold only permissions the caller holds ' +
      '(403 permission_denied). 409 already_member when a member has this email, 409 invitation_pending when it has a ' +
      'pending invitation. The `token` is returned only here and by resend.',
  })
  create(@CurrentOrg() org: OrgScope, @CurrentActor() actor: Actor, @Body() dto: CreateInvitationDto): Promise<InvitationWithTokenDto> {
    return this.invitations.create(org.orgId, actor.userId, { email: dto.email, roleId: dto.role_id.toLowerCase() });
  }

  @RequirePermission(Permission.UserInvite)
  @Get()
  @ApiOperation({
    operationId: 'listInvitations',
    summary: 'The invitations of an organization, newest first',
    description:
      'Filter with `status` (pending, accepted, revoked, expired: a pending invitation past its expiry is expired). ' +
      'Paged with `limit` (1..200, default 50) and the opaque `cursor` of the previous page. Tokens are never listed.',
  })
  async list(@CurrentOrg() org: OrgScope, @Query() query: ListInvitationsQueryDto): Promise<InvitationListDto> {
    const limit = query.limit ?? PAGE_LIMIT_DEFAULT;
    const beforeId = decodeCursor(INVITATIONS_CURSOR, query.cursor);
    const rows = await this.invitations.list(org.orgId, { status: query.status, limit, beforeId });
    return toPage(
      rows,
      limit,
      INVITATIONS_CURSOR,
      (r) => r.key,
      (r) => r.dto,
    );
  }

  @RequirePermission(Permission.UserInvite)
  @Delete(':invitation_id')
  @HttpCode(204)
  @ApiParam({ name: 'invitation_id', format: 'uuid' })
  @ApiNotFoundResponse({ description: '`invitation_not_found`: no such invitation in this organization.' })
  @ApiGoneResponse({ description: '`invitation_not_pending`: it was accepted or revoked.' })
  @ApiOperation({
    operationId: 'revokeInvitation',
    summary: 'Revoke a pending (or expired) invitation; its link stops working',
    description: 'An accepted or already revoked invitation is 410 invitation_not_pending.',
  })
  async revoke(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('invitation_id', uuidParam('invitation_id')) id: string,
  ): Promise<void> {
    await this.invitations.revoke(org.orgId, actor.userId, id);
  }

  @RequirePermission(Permission.UserInvite)
  @Post(':invitation_id/resend')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiParam({ name: 'invitation_id', format: 'uuid' })
  @ApiNotFoundResponse({ description: '`invitation_not_found`: no such invitation in this organization.' })
  @ApiConflictResponse({ description: '`invitation_pending`: the email has a newer pending invitation.' })
  @ApiGoneResponse({ description: '`invitation_not_pending`: it was accepted or revoked.' })
  @ApiOperation({
    operationId: 'resendInvitation',
    summary: 'Send a pending or expired invitation again, with a new token and expiry',
    description: 'The old link stops working. Accepted or revoked: 410 invitation_not_pending.',
  })
  resend(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('invitation_id', uuidParam('invitation_id')) id: string,
  ): Promise<InvitationWithTokenDto> {
    return this.invitations.resend(org.orgId, actor.userId, id);
  }
}

/** The invitee's side: look at an invitation, accept it. */
@ApiTags('invitations')
@Controller('invitations')
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Public()
  @RateLimited('invitation_preview')
  @Post('preview')
  @HttpCode(200)
  @ApiNotFoundResponse({ description: '`invitation_not_found`: the token is unknown or was replaced.' })
  @ApiOperation({
    operationId: 'previewInvitation',
    summary: 'What an invitation is for (organization, email, role, expiry, status)',
    description:
      'Answers for any status; an unknown or replaced token is 404 invitation_not_found. ' +
      'Rate limited per client address (RATE_LIMIT_INVITATION_PREVIEW; 429 rate_limited with Retry-After).',
  })
  preview(@Body() dto: InvitationTokenDto): Promise<InvitationPreviewDto> {
    return this.invitations.preview(dto.token);
  }

  @Authenticated()
  @Post('accept')
  @HttpCode(200)
  @ApiForbiddenResponse({ description: '`invitation_email_mismatch`: the invitation is for another email (it stays pending).' })
  @ApiNotFoundResponse({ description: '`invitation_not_found`: the token is unknown or was replaced.' })
  @ApiConflictResponse({ description: '`already_member`: the caller is a member of the organization.' })
  @ApiGoneResponse({ description: '`invitation_expired`, or `invitation_not_pending` (accepted or revoked).' })
  @ApiOperation({
    operationId: 'acceptInvitation',
    summary: 'Join the organization of an invitation',
    description:
      "The caller's email must be the invited one (403 invitation_email_mismatch; the invitation stays pending). " +
      '410 invitation_expired / invitation_not_pending, 404 invitation_not_found, 409 already_member. ' +
      "The caller's session keeps its current organization (switch with POST /auth/switch-org).",
  })
  accept(@CurrentActor() actor: Actor, @Body() dto: InvitationTokenDto): Promise<AcceptInvitationResponseDto> {
    return this.invitations.accept(dto.token, actor.userId);
  }
}
