import { Column } from 'typeorm';

/** `created_at timestamptz(3) NOT NULL DEFAULT now()`, set by the database and never written. */
export const CreatedAtColumn = (): PropertyDecorator =>
  Column({
    name: 'created_at',
    type: 'timestamptz',
    precision: 3,
    default: () => 'now()',
    insert: false,
    update: false,
  });

/** `updated_at timestamptz(3) NOT NULL DEFAULT now()`, set by the database on insert and by each update's SQL. */
export const UpdatedAtColumn = (): PropertyDecorator =>
  Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()', insert: false });
