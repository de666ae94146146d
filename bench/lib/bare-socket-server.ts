// The connections baseline, run as a process of its own: a bare Socket.IO server on node:http
// with the service's path and rooms, but no framework, no token check and no database. The
// handshake reads `sub` from the token unverified and joins `user_<sub>` in middleware, as the
// service does. POST /emit {"usuarios":[…],"mensaje":"…"} emits one notificacion_mensaje per user.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { SOCKET_PATH } from '../../src/websocket/socket-path';

let next = 1;

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200).end('ok');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/emit') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const { usuarios, mensaje } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      usuarios: number[];
      mensaje: string;
    };
    const fecha = new Date().toISOString();
    for (const usuario of usuarios) {
      io.to(`user_${usuario}`).emit('notificacion_mensaje', {
        type: 'notificacion_mensaje',
        message: mensaje,
        notificacion: { id: next++, mensaje, leida: false, fecha },
      });
    }
    res
      .writeHead(201, { 'content-type': 'application/json' })
      .end(JSON.stringify({ created: usuarios.length }));
  });
});

const io = new Server(http, { path: SOCKET_PATH });

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: string }).token ?? '';
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      sub?: string;
    };
    void socket.join(`user_${payload.sub}`);
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

http.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
