/** Where Socket.IO listens (the contract's path): the gateway, the HTTP drain and the docs. */
export const SOCKET_PATH = '/ws/notificaciones/';
