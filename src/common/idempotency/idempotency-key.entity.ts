import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An Idempotency-Key a user sent, and the response stored for it. IdempotencyStore reads and
 * writes it with SQL; the entity describes the table for the schema tooling. No foreign key to
 * users: a key simply expires.
 */
@Entity('idempotency_keys')
@Check('idempotency_keys_state_check', "state IN ('in_progress', 'completed')")
@Index('idempotency_keys_expires_idx', ['expiresAt'])
export class IdempotencyKey {
  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'idempotency_keys_pkey' })
  userId: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'idempotency_keys_pkey' })
  key: string;

  @Column({ name: 'request_hash', type: 'text' })
  requestHash: string;

  @Column({ type: 'text' })
  state: 'in_progress' | 'completed';

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus: number | null;

  /** json, not jsonb: a replay returns the body exactly as first sent. */
  @Column({ name: 'response_body', type: 'json', nullable: true })
  responseBody: unknown;

  @Column({ name: 'response_location', type: 'text', nullable: true })
  responseLocation: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt: Date;

  /** Each claim of a key has its own id: only the request holding the claim stores the response. */
  @Column({ type: 'uuid', nullable: true })
  claim: string | null;
}
