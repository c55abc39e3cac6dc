import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { USER_ROLES, type UserRole } from '../../common/auth/index.js';

export class SetRoleDto {
  @ApiProperty({
    enum: USER_ROLES,
    description: 'a staff role, or `user` to take the staff role away',
  })
  @IsIn(USER_ROLES)
  role: UserRole;
}
