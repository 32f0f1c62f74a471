// The one JSON shape of every HTTP error Warden answers, on the API, a
// worker's health port and the MCP HTTP endpoints alike:
// {"error": {"code", "message", "requestId", "details"?}}. The code is
// stable for programs, the message is for people, the request id is in the
// x-request-id header and the log too.

export type ErrorBody = {
  error: { code: string; message: string; requestId: string; details?: unknown };
};

export function errorBody(
  code: string,
  message: string,
  requestId: string,
  details?: unknown,
): ErrorBody {
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}
