import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

export interface Project {
  id: string;
  org_id: string;
  name: string;
  created_by: string;
  created_at: string;
}

export type Plan = 'free' | 'pro' | 'enterprise';

/**
 * The host app's own data (in memory, for the example). Every read and write takes the organization id
 * and is scoped by it: the guard checks the permission, the data layer keeps orgs apart.
 */
@Injectable()
export class ProjectsService {
  private readonly projects = new Map<string, Project>();
  private readonly plans = new Map<string, Plan>();

  list(orgId: string): Project[] {
    return [...this.projects.values()].filter((p) => p.org_id === orgId);
  }

  create(orgId: string, userId: string, name: string): Project {
    const project: Project = { id: randomUUID(), org_id: orgId, name, created_by: userId, created_at: new Date().toISOString() };
    this.projects.set(project.id, project);
    return project;
  }

  /** False when there is no such project in this organization. */
  remove(orgId: string, id: string): boolean {
    const project = this.projects.get(id);
    if (!project || project.org_id !== orgId) return false;
    return this.projects.delete(id);
  }

  plan(orgId: string): Plan {
    return this.plans.get(orgId) ?? 'free';
  }

  setPlan(orgId: string, plan: Plan): void {
    this.plans.set(orgId, plan);
  }
}
