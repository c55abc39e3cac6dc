import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * `user`, and the staff roles of the back office (docs/http-api.md, "Staff"):
 * `support` reads and decides after-sales, `operator` runs products, flash
 * sales, shipping and cancellations, `finance` refunds and exports, `admin`
 * does everything.
 */
export const USER_ROLES = ['user', 'support', 'operator', 'finance', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const STAFF_ROLES = ['support', 'operator', 'finance', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Index('uq_users_openid', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  openid: string;

  @Index('idx_users_unionid')
  @Column({ type: 'varchar', length: 64, nullable: true })
  unionid: string | null;

  @Column({ type: 'varchar', length: 64, default: '' })
  nickname: string;

  @Column({ name: 'avatar_url', type: 'varchar', length: 512, nullable: true })
  avatarUrl: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: UserRole;

  /** When the staff role of `grantedRole` was granted (null: never, or removed). */
  @Column({ name: 'admin_granted_at', type: 'datetime', precision: 6, nullable: true })
  adminGrantedAt: Date | null;

  /**
   * The staff role granted by `npm run admin -- grant` or PUT
   * /admin/users/:id/role; ADMIN_OPENIDS makes admins whatever it says.
   */
  @Column({ name: 'granted_role', type: 'varchar', length: 16, nullable: true })
  grantedRole: StaffRole | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
