// The baseline for the ingest benchmark: the least an Express 5 webhook endpoint can do (read the text
// body, answer 200), so the relay's figures can be read as "how much do parsing, the secret check and a
// durable SQLite commit cost on top of Express itself".
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.post('/hook', express.text({ type: () => true, limit: '256kb' }), (req, res) => {
  res.status(200).json({ ok: true, bytes: typeof req.body === 'string' ? req.body.length : 0 });
});
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
// Same keep-alive window as the relay, so connection reuse is alike on both sides.
server.keepAliveTimeout = 5000;
process.once('SIGTERM', () => server.close(() => process.exit(0)));
