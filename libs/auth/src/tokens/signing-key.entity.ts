import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An RS256 signing key; the private key is sealed with ENCRYPTION_KEY (AES-256-GCM). */
@Entity('signing_keys')
export class SigningKeyEntity {
  /** The JWT `kid`. */
  @PrimaryColumn('text')
  kid: string;

  @Column('text', { name: 'private_key_encrypted' })
  privateKeyEncrypted: string;

  @Column('jsonb', { name: 'public_jwk' })
  publicJwk: Record<string, string>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  /** Set when a newer key replaced it; it stays in the JWKS until its last tokens expire. */
  @Column('timestamptz', { name: 'retired_at', nullable: true })
  retiredAt: Date | null;
}
