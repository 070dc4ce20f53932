export default function HomePage() {
  return (
    <main>
      <h1>LitStatus</h1>
      <p className="muted">Type a few words, get a caption with hashtags in the tone you want.</p>
    </main>
  );
}
