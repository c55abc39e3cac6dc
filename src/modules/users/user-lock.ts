import type { EntityManager } from 'typeorm';
import { forUpdate } from '../../infra/database/index.js';
import { User } from './user.entity.js';

/**
 * Locks the user's row until the transaction ends, so that writers of what
 * hangs off one user (the address book, subscribe-message credits) take
 * turns instead of deadlocking on gap locks of their own tables.
 */
export async function lockUserRow(m: EntityManager, userId: number): Promise<void> {
  await forUpdate(
    m,
    m.createQueryBuilder(User, 'u').select('u.id').where('u.id = :userId', { userId }),
  ).getOne();
}
