//! A minimal hash router (#/submit, #/request/<address>, …): no server rewrites needed, works from any static host.
import { useEffect, useState } from "react";

export function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function navigate(path: string) {
  location.hash = path.startsWith("#") ? path : `#${path}`;
}
