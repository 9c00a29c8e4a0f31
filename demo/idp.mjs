// The demo identity provider for edge sign-in (`make dev`: 127.0.0.1:8789): panva's
// oidc-provider, a certified OpenID provider, with its development login and consent
// screens (they accept any password: this is a demo), back-channel logout, and the gate
// registered as a confidential client. Demo users: alice (admin, ops) and bob (user).
//
//   node demo/idp.mjs        # 127.0.0.1:$PORT (8789); the gate at $GATE_URL (http://127.0.0.1:8787)
//   import { demoProviderConfig, startDemoIdp } from "./idp.mjs"   // tests
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Provider from "oidc-provider";

export const DEMO_CLIENT_ID = "sessiongate-demo";
export const DEMO_CLIENT_SECRET = "dev-only-oidc-client-secret-NOT-SECRET";

/** The demo accounts and the claims the provider releases for them. */
export const DEMO_ACCOUNTS = {
  alice: { email: "alice@example.test", name: "Alice Liddell", roles: ["admin", "ops"] },
  bob: { email: "bob@example.test", name: "Bob Builder", roles: ["user"] },
};

/**
 * oidc-provider's configuration with the gate at `gateUrl` as its one client: the
 * redirect, back-channel logout and post-logout URIs a real deployment registers.
 */
export function demoProviderConfig({ gateUrl, clientId = DEMO_CLIENT_ID, clientSecret = DEMO_CLIENT_SECRET }) {
  return {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${gateUrl}/.sessiongate/oidc/callback`],
      post_logout_redirect_uris: [`${gateUrl}/`],
      backchannel_logout_uri: `${gateUrl}/.sessiongate/oidc/backchannel-logout`,
      backchannel_logout_session_required: true,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    }],
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    claims: { openid: ["sub", "roles"], email: ["email"], profile: ["name"] },
    cookies: { keys: ["dev-only-oidc-cookie-key-NOT-SECRET"] },
    // The provider refuses to call special-use addresses (SSRF protection); the demo gate's
    // back-channel logout URI is on loopback, so its dispatcher is left out.
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    async findAccount(ctx, id) {
      const claims = DEMO_ACCOUNTS[id] ?? { email: `${id}@example.test`, name: id, roles: [] };
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
  };
}

/** Starts the demo provider on 127.0.0.1:`port` for the gate at `gateUrl`. */
export async function startDemoIdp({ port = 0, gateUrl, clientId, clientSecret } = {}) {
  let handler = null;
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, demoProviderConfig({ gateUrl, clientId, clientSecret }));
  handler = provider.callback();
  return {
    issuer,
    provider,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const idp = await startDemoIdp({
    port: Number(process.env.PORT || 8789),
    gateUrl: (process.env.GATE_URL ?? "http://127.0.0.1:8787").replace(/\/$/, ""),
    clientId: process.env.OIDC_CLIENT_ID || DEMO_CLIENT_ID,
    clientSecret: process.env.OIDC_CLIENT_SECRET || DEMO_CLIENT_SECRET,
  });
  console.log(`demo identity provider listening on ${idp.issuer}`);
  const stop = () => idp.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
