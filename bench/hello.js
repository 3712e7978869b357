#!/usr/bin/env node
// The ceiling of `npm run bench`: a minimal NestJS 12 app on the FastifyAdapter with one GET route and
// no logging, started as its own process like the API. Usage: node bench/hello.js <port>
// (plain JS, so decorators are applied by hand).
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

class HelloController {
  hello() {
    return { hello: 'world' };
  }
}
Controller()(HelloController);
Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));

class HelloModule {}
Module({ controllers: [HelloController] })(HelloModule);

async function main() {
  const port = Number(process.argv[2] ?? 3999);
  const app = await NestFactory.create(HelloModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  process.stdout.write(`hello listening on ${port}\n`);
  const stop = () => app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`hello failed: ${e && e.stack ? e.stack : String(e)}\n`);
  process.exit(1);
});
