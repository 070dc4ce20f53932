import { notFound } from "next/navigation";

/** Any unknown path inside the localized app renders the localized 404. */
export default function CatchAll() {
  notFound();
}
