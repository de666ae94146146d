/** What `/metrics` answers with. */
export interface MetricsSource {
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** The MetricsSource `/metrics` reads: this process's MetricsService unless told otherwise. */
export const METRICS_SOURCE = Symbol('METRICS_SOURCE');
