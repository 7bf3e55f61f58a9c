import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <div className="py-24 text-center">
      <h1 className="text-3xl font-bold">Page not found</h1>
      <p className="mt-2 text-zinc-400">
        Nothing lives here.{" "}
        <Link className="text-accent underline" to="/">
          Back to Explore
        </Link>
      </p>
    </div>
  );
}
