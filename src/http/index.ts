export { type DiscoveryDocument, discoveryDocument, discoveryHtml } from './discovery.js';
export { handleError, statusOf, TEXT_MEDIA_TYPE } from './errors.js';
export { type Discarder, queryParameters, type RequestInput, readInput, type Stager } from './input.js';
export { JSON_MEDIA_TYPE, jobJson, parametersJson, resultsJson } from './json.js';
export { createHttpServer, type HttpServerOptions, type UploadLimits } from './server.js';
export { workDirStager } from './uploads.js';
export { parameterFileUrl, resultUrl } from './views.js';
export { type Availability, availabilityXml, capabilitiesXml } from './vosi.js';
export { jobXml, parametersXml, resultsXml, UWS_NS, XML_MEDIA_TYPE } from './xml.js';
