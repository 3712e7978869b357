/**
 * Lib boundaries: the libs form a DAG with core at the bottom
 *   core <- audit <- mail <- rbac <- tenancy <- auth <- invitations <- flags
 * and apps import libs only through their index (@saasready/<lib>).
 */
const order = ['core', 'audit', 'mail', 'rbac', 'tenancy', 'auth', 'invitations', 'flags'];
const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    from: {},
    to: { circular: true, pathNot: 'node_modules' },
  },
  {
    name: 'libs-not-into-apps',
    severity: 'error',
    from: { path: '^libs/' },
    to: { path: '^apps/' },
  },
];
// libs/nest-guard (published as @saasready/nest, runs inside customers' apps) stands alone: no other lib.
forbidden.push({
  name: 'nest-guard-standalone',
  severity: 'error',
  comment: 'libs/nest-guard is published on its own: it must not import another lib',
  from: { path: '^libs/nest-guard/' },
  to: { path: '^libs/(?!nest-guard/)' },
});
// libs/client (published as @saasready/client, runs in customers' apps and browsers) stands alone, and
// nothing of the service depends on it (tests drive it).
forbidden.push(
  {
    name: 'client-standalone',
    severity: 'error',
    comment: 'libs/client is published on its own: it must not import another lib, an app or the migrations',
    from: { path: '^libs/client/' },
    to: { path: '^(libs/(?!client/)|apps/|migrations/)' },
  },
  {
    name: 'nothing-into-client',
    severity: 'error',
    comment: 'the service does not depend on its own client',
    from: { path: '^(apps|libs/(?!client/))' },
    to: { path: '^libs/client/' },
  },
);
// A lib may import only the libs below it in `order`.
order.forEach((lib, i) => {
  const above = order.slice(i + 1);
  if (above.length) {
    forbidden.push({
      name: `${lib}-not-above`,
      severity: 'error',
      comment: `libs/${lib} must not depend on ${above.join(', ')}`,
      from: { path: `^libs/${lib}/` },
      to: { path: `^libs/(${above.join('|')})/` },
    });
  }
});
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|\\.spec\\.ts$)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
