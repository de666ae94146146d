// Every wire shape, declared once: the Socket.IO event map (the gateway is typed with it) and
// the HTTP bodies (the DTO classes implement these for validation and OpenAPI). Types only, so
// a frontend can import the file as is.

/** A notification as the frontend sees it (HTTP list items and socket payloads alike). */
export interface NotificacionJson {
  id: number;
  mensaje: string;
  leida: boolean;
  /** ISO 8601, UTC, milliseconds. */
  fecha: string;
  /** What kind of notification it is; `general` unless its sender said. */
  tipo: string;
  /** Where the frontend goes when it is clicked: a path (`/pedidos/42`) or an http(s) URL. */
  url: string | null;
  /** A JSON object for the frontend's own use. */
  datos: Record<string, unknown> | null;
}

export interface NotificacionMensajeEvent {
  type: 'notificacion_mensaje';
  message: string;
  notificacion: NotificacionJson;
}

export interface UnreadCountEvent {
  unread_count: number;
}

/** After a delete: these notifications of the user are gone (from every tab). */
export interface NotificacionesEliminadasEvent {
  ids: number[];
}

/** After a catch-up: how many were replayed, and whether that was all (else the client lists). */
export interface CatchUpEvent {
  replayed: number;
  complete: boolean;
}

export interface MarkReadResult {
  updated: number;
  unread_count: number;
}

/** Mark-unread answers as mark-read does. */
export type MarkUnreadResult = MarkReadResult;

export interface DeleteResult {
  deleted: number;
  unread_count: number;
}

export interface MarkReadRequest {
  ids: number[];
}

/** 1..1,000 ids: mark-unread has no "all". */
export type MarkUnreadRequest = MarkReadRequest;

/** `ids: []` deletes every read one ("clear read"). */
export type DeleteRequest = MarkReadRequest;

/** `GET` and `PUT preferences`: the kinds (tipo) not pushed live. */
export interface Preferences {
  silenciados: string[];
}

/** `GET unread-count` answers as the `unread_count` event says. */
export type UnreadCountResponse = UnreadCountEvent;

/** A page of `GET list`. */
export interface ListResponse {
  notifications: NotificacionJson[];
  /** All of the user's unread notifications, not just this page. */
  unread_count: number;
  next_cursor: string | null;
}

/** The answer to `POST send`: how many were stored, and their ids in the order of `usuarios`. */
export interface SendResponse {
  created: number;
  ids: number[];
}

export interface ServerToClientEvents {
  notificacion_mensaje: (event: NotificacionMensajeEvent) => void;
  unread_count: (event: UnreadCountEvent) => void;
  notificaciones_eliminadas: (event: NotificacionesEliminadasEvent) => void;
  catch_up: (event: CatchUpEvent) => void;
}

export interface ClientToServerEvents {
  mark_read: (
    request: MarkReadRequest,
    ack: (result: MarkReadResult | { error: string }) => void,
  ) => void;
}

/** What the handshake sends besides the token. */
export interface HandshakeAuth {
  token?: string;
  /** The highest notification id this client holds: all it may have missed is replayed. */
  since?: number | string;
}
