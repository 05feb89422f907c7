import nock from 'nock';

// Every test: no real outbound network; loopback (supertest, sandbox servers) stays allowed.
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
