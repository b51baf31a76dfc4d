import { natsStreamMessages, startNats } from './brokers.js';
import { runServersSuite } from './servers.js';

runServersSuite('NATS (JetStream)', await startNats(), { natsHistory: true }, natsStreamMessages);
