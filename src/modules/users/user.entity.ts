import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { StaffRole, UserRole } from '../../common/auth/index.js';
import { AVATAR_URL_MAX_LENGTH, NICKNAME_COLUMN_LENGTH } from './user.limits.js';

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

  @Column({ type: 'varchar', length: NICKNAME_COLUMN_LENGTH, default: '' })
  nickname: string;

  @Column({ name: 'avatar_url', type: 'varchar', length: AVATAR_URL_MAX_LENGTH, nullable: true })
  avatarUrl: string | null;

  // The back office finds users by phone.
  @Index('idx_users_phone')
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
