"""The authorization server's pages (Jinja, autoescaped): sign in, consent, error."""

LOGIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to the care record</title></head>
<body><main>
<h1>Sign in to the care record</h1>
{% if problem %}<p role="alert">{{ problem }}</p>{% endif %}
<form method="post" action="/login">
  <input type="hidden" name="next" value="{{ target }}">
  <p><label for="username">User name</label> <input id="username" name="username" autocomplete="username"></p>
  <p><label for="password">Password</label>
     <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit">Sign in</button></p>
</form>
</main></body></html>
"""

CONSENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allow {{ client.name }}?</title></head>
<body><main>
<h1>Allow {{ client.name }} to use the care record?</h1>
<p>Signed in as {{ user.name or user.username }}.</p>
<form method="post" action="{{ action }}">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <fieldset><legend>What the app may do</legend>
  {% for scope in scopes %}
    <p><input type="checkbox" id="scope-{{ loop.index }}" name="granted" value="{{ scope }}" checked>
       <label for="scope-{{ loop.index }}">{{ scope }}</label></p>
  {% endfor %}
  </fieldset>
  {% if pick_patient %}
  <p><label for="patient">Patient</label>
    <select id="patient" name="patient">
      {% for p in patients %}<option value="{{ p }}">{{ p }}</option>{% endfor %}
    </select></p>
  {% endif %}
  <p><button type="submit" name="decision" value="allow">Allow</button>
     <button type="submit" name="decision" value="deny">Deny</button></p>
</form>
</main></body></html>
"""

ERROR = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><main><h1>Authorization error</h1><p>{{ error }}: {{ description }}</p></main></body></html>
"""
