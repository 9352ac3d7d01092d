import http from 'node:http';

/**
 * The body of http://127.0.0.1:PORT/index.html once it answers 200, polling every
 * 100 ms for up to `tries` attempts (a pod's server takes a moment to listen); '' if never.
 */
export async function fetchPage(port: number, tries = 100): Promise<string> {
  for (let i = 0; i < tries; i++) {
    const body = await new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/index.html', timeout: 2000 }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
        })
        .on('error', () => resolve(''));
    });
    if (body) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return '';
}
