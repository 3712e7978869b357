import { OrganizationEntity } from '../organization.entity';
import { OrgDto } from './dto/org.dto';

export function toOrgDto(org: OrganizationEntity, yourRole: string): OrgDto {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    metadata: org.metadata ?? {},
    created_at: org.createdAt.toISOString(),
    updated_at: org.updatedAt.toISOString(),
    your_role: yourRole,
  };
}
