import { lazy, Suspense } from "react";
import { createBrowserRouter, Navigate, RouterProvider } from "react-router";

import { DataProvider } from "./api/data-provider";
import { useSession } from "./api/use-session";
import { Layout } from "./components/layout";
import { AuthPage } from "./pages/auth-page";
import { ConsolePage } from "./pages/console-page";
import { FeedPage } from "./pages/feed-page";
import { MyVideosPage } from "./pages/my-videos-page";
import { NotFoundPage } from "./pages/not-found-page";
import { TimelinePage } from "./pages/timeline-page";
import { WebhooksPage } from "./pages/webhooks-page";
import { UploadPage } from "./pages/upload-page";
import { UploadsProvider } from "./upload/uploads";

// The player pulls in hls.js; load it with the first video page, not with the feed.
const WatchPage = lazy(() => import("./pages/watch-page").then((module) => ({ default: module.WatchPage })));
const ClipPage = lazy(() => import("./pages/clip-page").then((module) => ({ default: module.ClipPage })));

function RequireSession({ children, admin = false }: { children: React.ReactNode; admin?: boolean }) {
  const session = useSession();
  if (!session) {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    return <Navigate to={`/signin?next=${next}`} replace />;
  }
  if (admin && !session.isAdmin) return <NotFoundPage />;
  return children;
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: "/", element: <FeedPage /> },
      { path: "/signin", element: <AuthPage mode="signin" /> },
      { path: "/signup", element: <AuthPage mode="signup" /> },
      {
        path: "/upload",
        element: (
          <RequireSession>
            <UploadPage />
          </RequireSession>
        ),
      },
      {
        path: "/me/videos",
        element: (
          <RequireSession>
            <MyVideosPage />
          </RequireSession>
        ),
      },
      {
        path: "/videos/:videoId/timeline",
        element: (
          <RequireSession>
            <TimelinePage />
          </RequireSession>
        ),
      },
      {
        path: "/me/webhooks",
        element: (
          <RequireSession>
            <WebhooksPage />
          </RequireSession>
        ),
      },
      {
        path: "/admin",
        element: (
          <RequireSession admin>
            <ConsolePage />
          </RequireSession>
        ),
      },
      {
        path: "/watch/:videoId",
        element: (
          <Suspense fallback={<p className="text-zinc-400">Loading…</p>}>
            <WatchPage />
          </Suspense>
        ),
      },
      {
        path: "/clips/:clipId",
        element: (
          <Suspense fallback={<p className="text-zinc-400">Loading…</p>}>
            <ClipPage />
          </Suspense>
        ),
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);

export function App() {
  return (
    <DataProvider>
      <UploadsProvider>
        <RouterProvider router={router} />
      </UploadsProvider>
    </DataProvider>
  );
}
