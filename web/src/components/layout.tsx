import { clsx } from "clsx";
import { Link, NavLink, Outlet, useNavigate } from "react-router";

import { signOut, useSession } from "../api/use-session";
import { useUploads } from "../upload/uploads";

function Tab({ to, children }: { to: string; children: React.ReactNode }) {
  return (
    <NavLink
      to={to}
      end
      className={({ isActive }) =>
        clsx(
          "rounded-md px-3 py-2 text-sm font-medium",
          isActive ? "bg-zinc-800 text-white" : "text-zinc-400 hover:text-white",
        )
      }
    >
      {children}
    </NavLink>
  );
}

export function Layout() {
  const session = useSession();
  const navigate = useNavigate();
  const { active } = useUploads();
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-zinc-800 bg-zinc-950/90 backdrop-blur">
        <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center gap-2 px-4 py-3">
          <Link to="/" className="mr-4 text-xl font-bold tracking-tight">
            <span className="text-accent">▶</span> Vidmesh
          </Link>
          <Tab to="/">Explore</Tab>
          {session && <Tab to="/me/videos">My videos</Tab>}
          {session && (
            <Tab to="/upload">
              Upload
              {active > 0 ? <span className="ml-1 rounded bg-brand px-1.5 text-xs text-white">{active}</span> : null}
            </Tab>
          )}
          {session && <Tab to="/me/webhooks">Webhooks</Tab>}
          {session?.isAdmin && <Tab to="/admin">Console</Tab>}
          <div className="ml-auto flex items-center gap-2">
            {session ? (
              <>
                <span className="hidden text-sm text-zinc-400 sm:inline" data-testid="signed-in-as">
                  {session.displayName || session.email}
                </span>
                <button
                  type="button"
                  className="rounded-md px-3 py-2 text-sm text-zinc-400 hover:text-white"
                  onClick={() => {
                    signOut();
                    void navigate("/");
                  }}
                >
                  Sign out
                </button>
              </>
            ) : (
              <>
                <Tab to="/signin">Sign in</Tab>
                <Link
                  to="/signup"
                  className="rounded-md bg-brand px-3 py-2 text-sm font-medium text-white hover:bg-brand-strong"
                >
                  Sign up
                </Link>
              </>
            )}
          </div>
        </nav>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}
