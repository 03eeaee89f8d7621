/**
 * The metric store: every metric family the agent keeps, exporter-neutral. Prometheus
 * (`export/prometheus/`) and OTLP (`export/otlp/metrics.ts`) are two views of it; neither
 * renames the other's names.
 *
 * A family is a {@link HistogramVec}, {@link CounterVec} or {@link GaugeVec}: its OTel name,
 * UCUM unit, description, its Prometheus name (given, or derived from the OTel name and unit by
 * {@link prometheusName}), its label names (Prometheus) with the attribute (OTel) each stands
 * for, and its series data, kept per dense series id of a shared {@link SeriesIndex}. A family
 * is created and added in one expression:
 *
 *     new HistogramVec({ name: 'db.client.operation.duration', unit: 's', help, labelNames, buckets, index }).registerIn(store)
 *
 * Pure: no I/O, no timers. `collect()` runs the families' collect-time callbacks (values read
 * when a view reads, such as the kernel's drop counter); views call it before reading.
 */
import type { CounterVec } from './counter.ts';
import type { FamilyTarget } from './family.ts';
import type { GaugeVec } from './gauge.ts';
import type { HistogramVec } from './histogram.ts';

export { familyFields, prometheusName } from './family.ts';
export type { FamilyTarget, MetricFamily, MetricFamilyOptions, MetricKind } from './family.ts';

/** A family in the store, by kind. */
export type StoredFamily = HistogramVec | CounterVec | GaugeVec;


export class MetricStore implements FamilyTarget {
  private readonly _families: StoredFamily[] = [];
  private readonly _byName = new Map<string, StoredFamily>();
  private readonly _byPromName = new Map<string, StoredFamily>();

  /**
   * Add a family (usually through its `registerIn(store)`). Names are unique per store, in
   * both namings; adding the same family twice is a no-op.
   */
  add(family: StoredFamily): void {
    // through FamilyTarget a family class passes itself: one of the three kinds the views know
    const same = this._byName.get(family.name);
    if (same === family) return;
    if (same !== undefined) throw new Error(`A metric named ${family.name} is already in the store.`);
    if (this._byPromName.has(family.promName)) throw new Error(`A metric with the name ${family.promName} has already been registered.`);
    this._families.push(family);
    this._byName.set(family.name, family);
    this._byPromName.set(family.promName, family);
  }

  /** Every family, in the order added (the Prometheus exposition order). */
  families(): readonly StoredFamily[] {
    return this._families;
  }

  /** A family by OTel name. */
  get(name: string): StoredFamily | undefined {
    return this._byName.get(name);
  }

  /** A family by Prometheus name. */
  getByPromName(promName: string): StoredFamily | undefined {
    return this._byPromName.get(promName);
  }

  /** Run every family's collect-time callback (views do it before reading). */
  collect(): void {
    for (const f of this._families) f.collect();
  }
}
