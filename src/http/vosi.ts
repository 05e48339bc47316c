import { formatInstant } from '../core/time.js';
import { escapeAttribute, escapeText } from './xml-text.js';

/**
 * VOSI 1.1 documents for each job type's service root (DALI-22, DALI-23,
 * DALI-24): `/{type}/capabilities` and `/{type}/availability` are siblings of
 * `/{type}/async` and `/{type}/sync`.
 */

export interface Availability {
  readonly available: boolean;
  readonly note?: string;
}

export function capabilitiesXml(serviceUrl: string): string {
  const iface = (url: string, use: 'full' | 'base') =>
    `    <interface xsi:type="vs:ParamHTTP">\n      <accessURL use="${use}">${escapeText(url)}</accessURL>\n    </interface>\n`;
  const capability = (standardID: string, body: string) =>
    `  <capability standardID="${escapeAttribute(standardID)}">\n${body}  </capability>\n`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"' +
    ' xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0"' +
    ' xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"' +
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
    capability('ivo://ivoa.net/std/VOSI#capabilities', iface(`${serviceUrl}/capabilities`, 'full')) +
    capability('ivo://ivoa.net/std/VOSI#availability', iface(`${serviceUrl}/availability`, 'full')) +
    capability('ivo://ivoa.net/std/UWS#rest-1.1', iface(`${serviceUrl}/async`, 'base')) +
    '</vosi:capabilities>\n'
  );
}

export function availabilityXml(state: Availability, upSince: number): string {
  const note = state.note ? `  <vosi:note>${escapeText(state.note)}</vosi:note>\n` : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n' +
    `  <vosi:available>${state.available ? 'true' : 'false'}</vosi:available>\n` +
    `  <vosi:upSince>${formatInstant(upSince)}</vosi:upSince>\n` +
    note +
    '</vosi:availability>\n'
  );
}
