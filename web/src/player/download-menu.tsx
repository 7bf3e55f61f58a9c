import * as Menu from "@radix-ui/react-dropdown-menu";
import { Download } from "lucide-react";

import { Button } from "../components/ui/button";
import type { DownloadLink } from "../gen/vidmesh/v1/playback_pb";

/**
 * The files the owner lets viewers download. Plain links: the browser saves them under the
 * name the server gives (Content-Disposition), and a first download may take a few seconds
 * while the server assembles the file from the stream's segments.
 */
export function DownloadMenu({ links }: { links: DownloadLink[] }) {
  return (
    <Menu.Root>
      <Menu.Trigger asChild>
        <Button size="sm" variant="secondary">
          <Download size={16} aria-hidden /> Download
        </Button>
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content className="min-w-48 rounded-md bg-zinc-900 p-1 shadow-xl" sideOffset={4}>
          {links.map((link) => (
            <Menu.Item key={link.name} asChild>
              <a
                href={link.url}
                download={link.filename}
                className="block rounded px-3 py-2 text-sm outline-none hover:bg-zinc-800 focus:bg-zinc-800"
              >
                {link.name === "audio" ? "Audio only (M4A)" : `${link.name} (MP4)`}
              </a>
            </Menu.Item>
          ))}
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}
