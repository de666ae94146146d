import { NotificacionJson, NotificacionMensajeEvent } from './events';
import { Notificacion } from './notificacion.entity';

/** The JSON shape of a notification: list items and socket payloads alike. */
export function toJson(
  notificacion: Pick<Notificacion, 'id' | 'mensaje' | 'leida' | 'fecha'>,
): NotificacionJson {
  return {
    id: notificacion.id,
    mensaje: notificacion.mensaje,
    leida: notificacion.leida,
    fecha: notificacion.fecha.toISOString(),
  };
}

/** The `notificacion_mensaje` event for a notification (live and replayed alike). */
export function notificacionMensaje(notificacion: NotificacionJson): NotificacionMensajeEvent {
  return { type: 'notificacion_mensaje', message: notificacion.mensaje, notificacion };
}
