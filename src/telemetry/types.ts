/**
 * Types shared by the telemetry model (spans, metrics) and its producers.
 */
import type { ServiceIdentity } from '../common/service.ts';


/** Decorates a request path with its `http.route`; `''` means no route. */
export type RouteResolver = (path: string, service: ServiceIdentity) => string;
