import { startMotoServer, type MotoServer } from './moto-server';

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMotoServer();
});
afterAll(async () => moto.stop());

test('moto server answers over HTTP on loopback', async () => {
  // GIVEN a running emulator WHEN its state endpoint is read THEN it answers JSON.
  const res = await fetch(`${moto.endpoint}/moto-api/data.json`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual(expect.any(Object));
});
