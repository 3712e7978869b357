/**
 * The seam through which registration redeems an invitation (POST /auth/register with invitation_token).
 * libs/invitations sits above auth, so auth cannot import it: InvitationsModule provides this token, and
 * AuthService injects it optionally (without the invitations lib, an invitation token is 404
 * invitation_not_found).
 */
export const REGISTRATION_INVITATIONS = Symbol('REGISTRATION_INVITATIONS');

/** The org and role a registration joins through an invitation. */
export interface RedeemedInvitation {
  orgId: string;
  roleId: string;
  roleName: string;
}

export interface RegistrationInvitations {
  /**
   * Runs inside the register transaction, after the user row is inserted: checks the invitation (404
   * invitation_not_found, 410 invitation_expired / invitation_not_pending, 403 invitation_email_mismatch
   * when `email` is not the invited one), marks it accepted by `userId` and creates the membership.
   * Throwing rolls the whole registration back (no account is created).
   */
  redeemForRegistration(token: string, email: string, userId: string): Promise<RedeemedInvitation>;
}
