import type { GroupSpec, ProfileSpec } from '../catalog';
import { BootApiError, BootApiErrorCodes } from '../errors';
import { groupSchema, profileSchema } from '../options';
import { bearerSecurity, errorSchema, type RouteContext } from './context';

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 63 } } };
const profileOut = { type: 'object', additionalProperties: true, properties: { name: { type: 'string' }, kind: { type: 'string' }, source: { type: 'string' } } };
const groupOut = { type: 'object', additionalProperties: true, properties: { name: { type: 'string' }, profile: { type: 'string' }, source: { type: 'string' } } };

/** Profiles and groups: read all (config + API), create/replace/delete the API ones. */
export function catalogRoutes(c: RouteContext): void {
  const { app, catalog } = c;
  const auth = { preHandler: app.requireToken };

  app.get('/api/v1/profiles', { ...auth, schema: { tags: ['profiles'], summary: 'All profiles', security: bearerSecurity, response: { 200: { type: 'array', items: profileOut } } } }, async () => catalog.listProfiles());
  app.get<{ Params: { name: string } }>(
    '/api/v1/profiles/:name',
    { ...auth, schema: { tags: ['profiles'], summary: 'One profile', security: bearerSecurity, params: nameParam, response: { 200: profileOut, 404: errorSchema } } },
    async (request) => {
      const p = catalog.listProfiles().find((x) => x.name === request.params.name);
      if (!p) throw new BootApiError(BootApiErrorCodes.PROFILE_NOT_FOUND, 404, `no profile "${request.params.name}"`);
      return p;
    },
  );
  app.put<{ Params: { name: string }; Body: ProfileSpec }>(
    '/api/v1/profiles/:name',
    {
      ...auth,
      schema: { tags: ['profiles'], summary: 'Create or replace a profile (templates are checked)', security: bearerSecurity, params: nameParam, body: profileSchema, response: { 200: profileOut, 201: profileOut, 400: errorSchema, 409: errorSchema } },
    },
    async (request, reply) => {
      const { profile, created } = catalog.putProfile(request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(profile);
    },
  );
  app.delete<{ Params: { name: string } }>(
    '/api/v1/profiles/:name',
    { ...auth, schema: { tags: ['profiles'], summary: 'Delete a profile no group uses', security: bearerSecurity, params: nameParam, response: { 204: { type: 'null' }, 404: errorSchema, 409: errorSchema } } },
    async (request, reply) => {
      if (!catalog.deleteProfile(request.params.name)) throw new BootApiError(BootApiErrorCodes.PROFILE_NOT_FOUND, 404, `no profile "${request.params.name}"`);
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/groups', { ...auth, schema: { tags: ['groups'], summary: 'All groups, most specific first', security: bearerSecurity, response: { 200: { type: 'array', items: groupOut } } } }, async () => catalog.listGroups());
  app.get<{ Params: { name: string } }>(
    '/api/v1/groups/:name',
    { ...auth, schema: { tags: ['groups'], summary: 'One group', security: bearerSecurity, params: nameParam, response: { 200: groupOut, 404: errorSchema } } },
    async (request) => {
      const g = catalog.getGroup(request.params.name);
      if (!g) throw new BootApiError(BootApiErrorCodes.GROUP_NOT_FOUND, 404, `no group "${request.params.name}"`);
      return g;
    },
  );
  app.put<{ Params: { name: string }; Body: GroupSpec }>(
    '/api/v1/groups/:name',
    {
      ...auth,
      schema: { tags: ['groups'], summary: 'Create or replace a group (a tie with an equally specific group is refused)', security: bearerSecurity, params: nameParam, body: groupSchema, response: { 200: groupOut, 201: groupOut, 400: errorSchema, 409: errorSchema } },
    },
    async (request, reply) => {
      const { group, created } = catalog.putGroup(request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(group);
    },
  );
  app.delete<{ Params: { name: string } }>(
    '/api/v1/groups/:name',
    { ...auth, schema: { tags: ['groups'], summary: 'Delete a group', security: bearerSecurity, params: nameParam, response: { 204: { type: 'null' }, 404: errorSchema, 409: errorSchema } } },
    async (request, reply) => {
      if (!catalog.deleteGroup(request.params.name)) throw new BootApiError(BootApiErrorCodes.GROUP_NOT_FOUND, 404, `no group "${request.params.name}"`);
      return reply.code(204).send();
    },
  );
}
