/**
 * Typed clients for the public services, generated from proto/ (protobuf-es) and spoken as
 * gRPC-Web through Envoy on the page's own origin: no hand-written message shapes anywhere.
 */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { AuthService } from "../gen/vidmesh/v1/auth_pb";
import { PlaybackService } from "../gen/vidmesh/v1/playback_pb";
import { QuotaService } from "../gen/vidmesh/v1/quota_pb";
import { TranscodeAdminService } from "../gen/vidmesh/v1/transcode_pb";
import { VideoService } from "../gen/vidmesh/v1/video_pb";
import { WebhookService } from "../gen/vidmesh/v1/webhook_pb";
import { accessToken, setRefresher } from "./session";

const baseUrl = typeof window === "undefined" ? "http://localhost:8080" : window.location.origin;

/** Adds the (fresh) access token to every call made while signed in. */
const authorize: Interceptor = (next) => async (request) => {
  if (!request.header.has("authorization")) {
    const token = await accessToken();
    if (token) request.header.set("authorization", `Bearer ${token}`);
  }
  return next(request);
};

/** The signed-in transport: every generated client and every query (connect-query) use it. */
export const transport = createGrpcWebTransport({ baseUrl, interceptors: [authorize] });
const plainTransport = createGrpcWebTransport({ baseUrl });

export const auth = createClient(AuthService, transport);
export const videos = createClient(VideoService, transport);
export const playback = createClient(PlaybackService, transport);
export const transcodes = createClient(TranscodeAdminService, transport);
export const quotas = createClient(QuotaService, transport);
export const webhooks = createClient(WebhookService, transport);

const refreshClient = createClient(AuthService, plainTransport);
setRefresher(async (refreshToken) => {
  const response = await refreshClient.refreshToken({ refreshToken });
  if (!response.credentials) throw new Error("no credentials in the refresh response");
  return response.credentials;
});
