"""Demo data owned by core: one account per staff role (seed_demo calls `seed`)."""

from django.conf import settings

from .enums import Role
from .models import District, User

BHAVNAGAR = 443

DEMO_USERS = [
    # username, role, first name, last name, is_staff (admin access)
    ("state_official", Role.STATE_OFFICIAL, "Meera", "Desai", True),
    ("district_officer", Role.DISTRICT_OFFICER, "Harshad", "Joshi", True),
    ("facility_admin", Role.FACILITY_ADMIN, "Nilesh", "Patel", False),
    ("facility_staff", Role.FACILITY_STAFF, "Kavita", "Solanki", False),
    ("doctor", Role.DOCTOR, "Anjali", "Mehta", False),
]


def seed(*, rng, password: str, out) -> dict:
    users = {}
    for username, role, first, last, is_staff in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "first_name": first, "last_name": last, "is_staff": is_staff},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        users[username] = user
    users["district_officer"].districts.set([District.objects.get(lgd_code=BHAVNAGAR)])
    out.write(f"  users: {', '.join(users)} (password from DEMO_PASSWORD)")
    return {"users": users, "debug": settings.DEBUG}
