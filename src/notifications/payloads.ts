import { NotificacionJson, NotificacionMensajeEvent } from './events';
import { Notificacion } from './notificacion.entity';

/**
 * The JSON shape of a notification: list items and socket payloads alike, the seed's four
 * fields first, then the others.
 */
export function toJson(
  notificacion: Pick<Notificacion, 'id' | 'mensaje' | 'leida' | 'fecha' | 'tipo' | 'url' | 'datos'>,
): NotificacionJson {
  return {
    id: notificacion.id,
    mensaje: notificacion.mensaje,
    leida: notificacion.leida,
    fecha: notificacion.fecha.toISOString(),
    tipo: notificacion.tipo,
    url: notificacion.url,
    datos: notificacion.datos,
  };
}

/** The `notificacion_mensaje` event for a notification (live and replayed alike). */
export function notificacionMensaje(notificacion: NotificacionJson): NotificacionMensajeEvent {
  return { type: 'notificacion_mensaje', message: notificacion.mensaje, notificacion };
}
