// node oidc-provider configured as an independent authorization server for tokenwarden's
// interop tests. It binds 127.0.0.1 on an ephemeral port and prints one JSON line on stdout:
//   {"issuer": "http://127.0.0.1:PORT", "version": "9.13.3"}
// Every token, revocation and introspection request and every event that proves or
// disproves refresh-token reuse is appended as a JSON line to --events FILE (no token
// values: only grant types, client ids, error codes and grant ids' hashes).
//
// Usage: node server.mjs --events FILE [--access-token-ttl SECONDS] [--device-interval S]
// Secrets come from the environment, never argv: INTEROP_CONFIDENTIAL_SECRET (the
// confidential client's), INTEROP_INTROSPECTION_SECRET (the resource server that
// introspects), INTEROP_ADMIN_SECRET (the test-only admin route that ends grants).

import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string' },
    'access-token-ttl': { type: 'string', default: '5' },
    'device-interval': { type: 'string', default: '1' },
  },
});
if (!args.events) {
  process.stderr.write('server.mjs: --events FILE is required\n');
  process.exit(2);
}
const accessTokenTtl = Number(args['access-token-ttl']);
if (!Number.isInteger(accessTokenTtl) || accessTokenTtl < 1) {
  process.stderr.write('server.mjs: --access-token-ttl must be a whole number of seconds\n');
  process.exit(2);
}
const deviceInterval = Number(args['device-interval']);
const secrets = {};
for (const name of ['CONFIDENTIAL', 'INTROSPECTION', 'ADMIN']) {
  const value = process.env[`INTEROP_${name}_SECRET`];
  if (!value) {
    process.stderr.write(`server.mjs: INTEROP_${name}_SECRET is not set\n`);
    process.exit(2);
  }
  secrets[name] = value;
}
const { version } = JSON.parse(
  readFileSync(new URL('./node_modules/oidc-provider/package.json', import.meta.url), 'utf8'),
);

function record(event, fields = {}) {
  appendFileSync(args.events, `${JSON.stringify({ at: Date.now() / 1000, event, ...fields })}\n`);
}

// A short stable label for a grant, so events can be correlated without the id itself.
function label(id) {
  return id ? createHash('sha256').update(id).digest('hex').slice(0, 12) : null;
}

// ----------------------------------------------------------------------------- storage
// The package's memory adapter, reduced to what these tests need, plus the one thing it
// cannot do: list the grants, so the admin route can end every grant "at the server".
const store = new Map();
const grantMembers = new Map();
const grantIds = new Set();
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode']);

class TestAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload, expiresAt });
    if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
    if (this.model === 'Grant') grantIds.add(id);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
  }

  static live(key) {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async find(id) { return TestAdapter.live(this.key(id)); }

  async findByUid(uid) { return this.find(TestAdapter.live(`sessionUid:${uid}`)); }

  async findByUserCode(code) { return this.find(TestAdapter.live(`userCode:${code}`)); }

  async consume(id) {
    const payload = TestAdapter.live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
    if (this.model === 'Grant') grantIds.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) store.delete(key);
    grantMembers.delete(grantId);
  }
}

// ------------------------------------------------------------------------ configuration
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const grantTypes = [DEVICE_GRANT, 'refresh_token', 'authorization_code'];
const nativeClient = {
  grant_types: grantTypes,
  response_types: ['code'],
  application_type: 'native',
  // RFC 8252 §7.3: for a native client any port of a loopback redirect URI is accepted.
  redirect_uris: ['http://127.0.0.1/callback'],
  scope: 'openid offline_access profile email',
};

const configuration = {
  adapter: TestAdapter,
  clients: [
    { ...nativeClient, client_id: 'tokenwarden-public', token_endpoint_auth_method: 'none' },
    {
      ...nativeClient,
      client_id: 'tokenwarden-confidential',
      client_secret: secrets.CONFIDENTIAL,
      token_endpoint_auth_method: 'client_secret_post',
    },
    {
      client_id: 'interop-resource-server',
      client_secret: secrets.INTROSPECTION,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  // "profile" and "email" must be known scopes: oidc-provider silently drops a scope it
  // does not know from the grant, and a refresh that re-sends the profile's scopes then
  // gets invalid_scope ("refresh token missing requested scope").
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id, name: `Interop ${id}`, preferred_username: id,
          email: `${id}@interop.test`, email_verified: true,
        };
      },
    };
  },
  features: {
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    devInteractions: { enabled: true },
  },
  // By default a refresh token is issued only when the grant holds offline_access, and
  // the authorization endpoint drops offline_access unless prompt=consent (OIDC Core
  // §11). Issue one whenever the client may use the refresh_token grant, and do not tie
  // it to the browser session, so both flows behave the same.
  async issueRefreshToken(_ctx, client) { return client.grantTypeAllowed('refresh_token'); },
  expiresWithSession: async () => false,
  rotateRefreshToken: true,
  pkce: { required: () => true },
  ttl: {
    AccessToken: accessTokenTtl,
    RefreshToken: 24 * 3600,
    DeviceCode: 600,
    AuthorizationCode: 120,
    Grant: 24 * 3600,
    Interaction: 600,
    Session: 24 * 3600,
    IdToken: 3600,
  },
  cookies: { keys: [secrets.ADMIN] },
};

// Bind first, then build the provider: its issuer must name the port actually bound.
const server = createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const { port } = server.address();
const provider = new Provider(`http://127.0.0.1:${port}`, configuration);

// ------------------------------------------------------------------------------ events
provider.on('grant.success', (ctx) => {
  record('grant.success', {
    grant_type: ctx.oidc.params?.grant_type, client_id: ctx.oidc.client?.clientId,
    rotations: ctx.oidc.entities.RefreshToken?.rotations ?? null,
  });
});
provider.on('grant.error', (ctx, err) => {
  record('grant.error', {
    grant_type: ctx.oidc.params?.grant_type, client_id: ctx.oidc.client?.clientId,
    error: err.error, detail: err.error_detail ?? err.error_description, status: err.statusCode,
    reuse: err.error_detail === 'refresh token already used',
  });
});
provider.on('grant.revoked', (ctx, grantId) => {
  record('grant.revoked', { route: ctx.oidc.route, grant: label(grantId) });
});
provider.on('refresh_token.consumed', (token) => {
  record('refresh_token.consumed', { grant: label(token.grantId), rotations: token.rotations ?? 0 });
});
provider.on('server_error', (_ctx, err) => {
  record('server_error', { message: String(err?.message ?? err) });
});
for (const name of ['revocation.error', 'introspection.error', 'userinfo.error',
  'device_authorization.error', 'authorization.error']) {
  provider.on(name, (_ctx, err) => {
    record(name, { error: err.error, detail: err.error_detail ?? err.error_description });
  });
}
// RFC 8628 §3.2: without "interval" a client polls every 5 s; the tests use a shorter one.
provider.on('device_authorization.success', (_ctx, body) => {
  if (deviceInterval > 0) Object.assign(body, { interval: deviceInterval });
  record('device_authorization.success', {});
});

// Every request to the endpoints the tests count, with its outcome.
const COUNTED = new Set(['/token', '/token/revocation', '/token/introspection', '/me',
  '/device/auth']);
provider.use(async (ctx, next) => {
  if (ctx.path === '/-/end-all-grants' && ctx.method === 'POST') {
    if (ctx.get('x-interop-admin') !== secrets.ADMIN) {
      ctx.status = 403;
      return;
    }
    // End every grant at the server, as an administrator or the user's account page would.
    const ended = [...grantIds];
    for (const grantId of ended) {
      for (const model of [provider.AccessToken, provider.RefreshToken,
        provider.AuthorizationCode, provider.DeviceCode]) {
        await model.adapter.revokeByGrantId(grantId);
      }
      await provider.Grant.adapter.destroy(grantId);
      record('grant.revoked', { route: 'admin', grant: label(grantId) });
    }
    ctx.body = { ended: ended.length };
    return;
  }
  await next();
  if (COUNTED.has(ctx.path)) {
    record('request', {
      path: ctx.path, method: ctx.method, status: ctx.status,
      grant_type: ctx.oidc?.params?.grant_type ?? null,
      client_id: ctx.oidc?.client?.clientId ?? null,
      auth_method: ctx.oidc?.client?.clientAuthMethod ?? null,
    });
  }
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer: provider.issuer, version })}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
