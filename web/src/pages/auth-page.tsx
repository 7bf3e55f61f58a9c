import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { auth } from "../api/client";
import { toApiError, type ApiError } from "../api/errors";
import { saveSession, sessionFrom } from "../api/session";
import { Button } from "../components/ui/button";
import { TextField } from "../components/ui/field";
import { formText } from "../lib/forms";

type Mode = "signin" | "signup";

/** Sign in and sign up; errors land on the field the server's reason names. */
export function AuthPage({ mode }: { mode: Mode }) {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = formText(form, "email");
    const password = formText(form, "password");
    setBusy(true);
    setError(null);
    try {
      const response = signup
        ? await auth.register({ email, password, displayName: formText(form, "displayName") })
        : await auth.login({ email, password });
      if (!response.credentials) throw new Error("no credentials");
      saveSession(sessionFrom(response.credentials, response.user));
      const next = params.get("next");
      void navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : signup ? "/upload" : "/me/videos");
    } catch (failure) {
      setError(toApiError(failure));
    } finally {
      setBusy(false);
    }
  }

  const on = (field: string) => (error?.field === field ? error.message : null);
  const general = error && !["email", "password", "display_name"].includes(error.field ?? "") ? error.message : null;

  return (
    <div className="mx-auto max-w-sm py-10">
      <h1 className="mb-6 text-2xl font-bold">{signup ? "Create your account" : "Sign in"}</h1>
      <form
        onSubmit={(event) => void submit(event)}
        noValidate
        className="space-y-4"
        aria-describedby={general ? "form-error" : undefined}
      >
        {signup && (
          <TextField label="Display name" name="displayName" autoComplete="nickname" error={on("display_name")} />
        )}
        <TextField label="Email" name="email" type="email" autoComplete="email" required error={on("email")} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete={signup ? "new-password" : "current-password"}
          required
          hint={signup ? "At least 10 characters." : undefined}
          error={on("password")}
        />
        {general && (
          <p id="form-error" role="alert" className="rounded-md bg-red-950 p-3 text-sm text-red-300">
            {general}
          </p>
        )}
        <Button type="submit" className="w-full" disabled={busy}>
          {busy ? "Please wait…" : signup ? "Sign up" : "Sign in"}
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-zinc-400">
        {signup ? (
          <>
            Already have an account?{" "}
            <Link className="text-accent underline" to="/signin">
              Sign in
            </Link>
          </>
        ) : (
          <>
            New here?{" "}
            <Link className="text-accent underline" to="/signup">
              Create an account
            </Link>
          </>
        )}
      </p>
    </div>
  );
}
